"""Shared Kubernetes (EKS) and ECS clusters on EC2, from CUR 2.0 split cost allocation data.

A pod's (task's) split row carries no cost of its own (storage.sources.cur): its node's EC2 row has it. The
allocation queries read ``_items`` (this module's temporary view, made per connection by
``base.create_rules``) instead of ``line_items``: the same rows, where each day's EC2 compute rows of a node
that ran pods hand their cost to those pods, in proportion to AWS's figures:

- a pod's weight is its split cost plus its unused cost (``idle = "proportional"``: each pod pays its share
  of the node's idle capacity, as AWS splits it), or its split cost alone (``"platform"``: the node's rows
  keep the idle share, which the platform team owns);
- a pod's share of the node's day is ``node cost x weight / (sum of the node's split + unused cost)``, for
  EffectiveCost, BilledCost and ListCost alike, so every total stays exactly the bill's (when AWS's split
  and unused costs add up to the node's amortised cost, as they do, a pod's share is its own figures);
- the node's compute rows (usage types BoxUsage, SpotUsage, DedicatedUsage, or operation RunInstances when
  no usage type is given; Savings Plan negation rows included) keep ``cost x idle share`` under
  ``platform``, nothing under ``proportional``. A node's other rows (data transfer, EBS) are untouched.

Extra columns of ``_items``: ``_container`` ('pod' for a pod share, 'idle' for a node row that handed its
cost on, NULL otherwise), ``_cluster``, ``_node`` and ``_idle_cost`` (the part of the row's EffectiveCost
that is the node's idle capacity, under either split). Pods whose node has no compute row that day get
nothing (their node is in a bill not imported). A store that never held split rows reads ``line_items`` as
it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from storage.costs import CostStore, sql_string
from storage.schema import stored_columns

if TYPE_CHECKING:
    import duckdb

ITEMS = "_items"
EXTRA = {"_container": "VARCHAR", "_cluster": "VARCHAR", "_node": "VARCHAR", "_idle_cost": "DOUBLE"}
# The EC2 rows of an instance's running time (what split cost allocation divides among its pods).
# (AWS spells usage types alike everywhere: plain substring tests, cheaper than ILIKE on every row.)
NODE_ROW = ("ChargeCategory = 'Usage' AND x_SplitParentResourceId IS NULL AND ResourceId IS NOT NULL AND "
            "(contains(x_UsageType, 'BoxUsage') OR contains(x_UsageType, 'SpotUsage') OR "
            "contains(x_UsageType, 'DedicatedUsage') OR (x_UsageType IS NULL AND starts_with(x_Operation, "
            "'RunInstances')))")
CLUSTER_COLUMNS = ["cluster", "nodes", "pods", "cost", "pod_cost", "idle_cost", "allocated_cost", "by_tag_cost",
                   "by_rule_cost"]
NAMESPACE_COLUMNS = ["cluster", "namespace", "team", "how", "cost", "idle_cost"]


def has_split_rows(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the store has ever held split cost allocation rows (their column is stored); on a warehouse
    session, when its mapping view has the column (NULL where the export carries no split data)."""
    if hasattr(con, "view_columns"):
        return "x_SplitParentResourceId" in con.view_columns
    return "x_SplitParentResourceId" in stored_columns(con)


def _li(sql: str) -> str:
    """``NODE_ROW``-style SQL with its columns qualified by ``li.``."""
    import re

    return re.sub(r"\b(ChargeCategory|x_SplitParentResourceId|ResourceId|x_UsageType|x_Operation)\b", r"li.\1", sql)


def items_view_sql(con: duckdb.DuckDBPyConnection, store: CostStore, items: str = "line_items") -> str:
    """The SELECT of ``_items`` for this store and its containers config, over the line items ``items`` (a
    relation with the columns of the line_items view)."""
    if not has_split_rows(con):
        extra = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in EXTRA.items())
        return f"SELECT *, {extra} FROM {items}"
    platform = store.containers.idle == "platform"
    split, unused = "coalesce(li.x_SplitCost, 0)", "coalesce(li.x_SplitUnusedCost, 0)"
    weight = split if platform else f"({split} + {unused})"
    keep = "sn.unused / sn.w" if platform else "0"

    # A row of a node that ran pods that day is one of its compute rows (checked only on those rows).
    node = f"(sn.w IS NOT NULL AND {_li(NODE_ROW)})"

    def share(col: str, total: str) -> str:
        return (f"CASE WHEN sp.w IS NOT NULL THEN sp.{total} * {weight} / sp.w "
                f"WHEN {node} THEN li.{col} * {keep} ELSE li.{col} END AS {col}")

    idle = (f"CASE WHEN sp.w IS NOT NULL THEN {'0' if platform else f'sp.eff * {unused} / sp.w'} "
            f"WHEN {node} THEN {'li.EffectiveCost * sn.unused / sn.w' if platform else '0'} END")
    return f"""
WITH pods AS (
  SELECT charge_date AS d, x_SplitParentResourceId AS node, sum(coalesce(x_SplitCost, 0)) AS split,
         sum(coalesce(x_SplitUnusedCost, 0)) AS unused, min(x_ContainerCluster) AS cluster
  FROM {items} WHERE x_SplitParentResourceId IS NOT NULL GROUP BY 1, 2),
nodes AS (
  SELECT charge_date AS d, ResourceId AS node, sum(EffectiveCost) AS eff, sum(BilledCost) AS billed,
         sum(ListCost) AS list, min(ServiceName) AS service
  FROM {items} WHERE {NODE_ROW} AND ResourceId IN (SELECT node FROM pods) GROUP BY 1, 2),
shares AS MATERIALIZED (
  SELECT p.d, p.node, p.cluster, n.eff, n.billed, n.list, n.service, p.unused, p.split + p.unused AS w
  FROM pods p JOIN nodes n ON n.d = p.d AND n.node = p.node WHERE p.split + p.unused > 0)
SELECT li.* REPLACE ({share('EffectiveCost', 'eff')}, {share('BilledCost', 'billed')},
                     {share('ListCost', 'list')},
                     CASE WHEN sp.w IS NOT NULL THEN coalesce(sp.service, li.ServiceName) ELSE li.ServiceName END
                       AS ServiceName),
       CASE WHEN sp.w IS NOT NULL THEN 'pod' WHEN {node} THEN 'idle' END AS _container,
       CASE WHEN sp.w IS NOT NULL THEN sp.cluster WHEN {node} THEN sn.cluster END AS _cluster,
       CASE WHEN sp.w IS NOT NULL THEN sp.node WHEN {node} THEN sn.node END AS _node, {idle} AS _idle_cost
FROM {items} li
LEFT JOIN shares sp ON sp.d = li.charge_date AND sp.node = li.x_SplitParentResourceId
LEFT JOIN shares sn ON sn.d = li.charge_date AND sn.node = li.ResourceId AND li.x_SplitParentResourceId IS NULL"""


def create_items(con: duckdb.DuckDBPyConnection, store: CostStore | None) -> None:
    """This connection's temporary view ``_items`` (the line items as allocation reads them)."""
    if store is None:
        extra = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in EXTRA.items())
        sql = f"SELECT *, {extra} FROM line_items"
    else:
        sql = items_view_sql(con, store)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {ITEMS} AS {sql}")


def pod_rule_sql(con: duckdb.DuckDBPyConnection, store: CostStore) -> str | None:
    """SQL over ``_items`` for a pod share's team by the containers config (a label value, else its
    namespace); None when the store holds no split rows."""
    if not has_split_rows(con):
        return None
    ct = store.containers
    cases = [f"WHEN {store.tag_expr(con, label)} = {sql_string(value)} THEN {sql_string(team)}"
             for (label, value), team in ct.labels.items()]
    cases += [f"WHEN x_ContainerNamespace = {sql_string(ns)} THEN {sql_string(team)}"
              for ns, team in ct.namespaces.items()]
    return f"CASE WHEN _container = 'pod' THEN CASE {' '.join(cases)} END END" if cases else "CAST(NULL AS VARCHAR)"


def cluster_costs(store: CostStore, account_teams: Mapping[str, str], start: date, end: date,
                  charge_categories: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per cluster for ``start <= day < end`` (the spend of its nodes' compute rows, as ``_items`` hands it
    on): nodes, pods, cost, pod_cost (handed to pods), idle_cost (the nodes' unused capacity, whoever
    pays it), allocated_cost, by_tag_cost, by_rule_cost; and per cluster and namespace: team, how, cost,
    idle_cost; each a list of rows keyed by ``CLUSTER_COLUMNS`` and ``NAMESPACE_COLUMNS``. Empty lists while
    the store holds no split rows."""
    from storage.cost_queries.base import LINE_ITEMS_WITH_RULES, allocation_sql, create_rules, sql_list

    with store.reader() as con:
        if con is None or not has_split_rows(con):
            return [], []
        create_rules(con, account_teams, store)
        value, how = allocation_sql(con, store)
        base = (f"FROM {LINE_ITEMS_WITH_RULES} WHERE _container IS NOT NULL AND charge_date >= ? AND charge_date < ? "
                f"AND ChargeCategory IN ({sql_list(charge_categories)})")
        clusters = con.execute(
            f"SELECT _cluster AS cluster, count(DISTINCT _node) AS nodes, "
            f"count(DISTINCT ResourceId) FILTER (WHERE _container = 'pod') AS pods, "
            f"coalesce(sum(EffectiveCost), 0) AS cost, "
            f"coalesce(sum(EffectiveCost) FILTER (WHERE _container = 'pod'), 0) AS pod_cost, "
            f"coalesce(sum(_idle_cost), 0) AS idle_cost, "
            f"coalesce(sum(EffectiveCost) FILTER (WHERE ({how}) IS NOT NULL), 0) AS allocated_cost, "
            f"coalesce(sum(EffectiveCost) FILTER (WHERE ({how}) = 'tag'), 0) AS by_tag_cost, "
            f"coalesce(sum(EffectiveCost) FILTER (WHERE ({how}) = 'rule'), 0) AS by_rule_cost "
            f"{base} GROUP BY 1 ORDER BY 4 DESC, 1", [start, end]).fetchall()
        spaces = con.execute(
            f"SELECT _cluster AS cluster, CASE WHEN _container = 'pod' THEN x_ContainerNamespace END AS namespace, "
            f"{value} AS team, {how} AS how, coalesce(sum(EffectiveCost), 0) AS cost, "
            f"coalesce(sum(_idle_cost), 0) AS idle_cost {base} GROUP BY ALL "
            "HAVING abs(sum(EffectiveCost)) > 1e-9 ORDER BY 1, 5 DESC, 2", [start, end]).fetchall()
    return ([dict(zip(CLUSTER_COLUMNS, r, strict=True)) for r in clusters],
            [dict(zip(NAMESPACE_COLUMNS, r, strict=True)) for r in spaces])


def idle_node_costs(store: CostStore, start: date, end: date) -> list[tuple[str, str | None, float]]:
    """(node resource id, account id, idle EffectiveCost) of the nodes that ran pods in ``start <= day <
    end``, idlest first: the part of their cost that is unused capacity (AWS's unused cost, scaled to the
    node's amortised cost), whoever the config says pays it."""
    with store.reader() as con:
        if con is None or not has_split_rows(con):
            return []
        create_items(con, store)
        rows = con.execute(
            f"SELECT _node, any_value(SubAccountId), sum(_idle_cost) FROM {ITEMS} WHERE _container IS NOT NULL "
            "AND charge_date >= ? AND charge_date < ? GROUP BY 1 HAVING sum(_idle_cost) > 1e-9 ORDER BY 3 DESC, 1",
            [start, end]).fetchall()
    return [(str(n), a, float(c)) for n, a, c in rows]
