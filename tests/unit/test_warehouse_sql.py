"""The named queries as Athena would run them: golden Trino text, sqlglot's validation, and a round trip.

There is no Trino here. What is checked: every named query's generated Athena SQL is kept as a golden file
(UPDATE_GOLDEN=1 rewrites them on purpose); each re-parses as Trino with no function sqlglot does not know
(``exp.Anonymous``); every scan of line_items with a window carries the billing-period partition filter;
and the Trino text transpiled back to DuckDB gives the same frames on the demo as DuckDB directly (a weak
check, but it catches a dropped filter, a lost temporary table or a changed window).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from storage.costs import CostStore
from storage.warehouse.dialect import bind, translate, unknown_functions
from storage.warehouse.views import mapping_view_sql
from tests.unit.warehouse_queries import ATHENA, END, START, LoopbackBackend, catalogue, same_answer

GOLDEN = Path(__file__).with_name("golden") / "athena"


@pytest.fixture(scope="module")
def demo(demo_truth_and_path):
    path = demo_truth_and_path[1] / "costs.duckdb"
    from storage.config import load_config

    tax = load_config(demo_truth_and_path[1]).taxonomy
    direct = CostStore(path, tax)
    names = sorted(__import__("storage.cost_queries", fromlist=["account_names"]).account_names(direct))
    teams = {names[0]: "platform"}
    resource = direct.query("SELECT ResourceId FROM line_items WHERE ResourceId IS NOT NULL "
                            "ORDER BY EffectiveCost DESC, ResourceId LIMIT 1").iloc[0, 0]
    return direct, tax, teams, names[0], resource


def _warehouse_store(direct: CostStore) -> tuple[CostStore, LoopbackBackend]:
    store = CostStore(direct.path, direct.taxonomy, warehouse=ATHENA)
    backend = LoopbackBackend(store)
    store.backend = backend
    return store, backend


def test_every_named_query_gives_the_same_answer_through_trino_and_back(demo) -> None:
    direct, _tax, teams, account, resource = demo
    store, backend = _warehouse_store(direct)
    want, got = catalogue(direct, teams, account, resource), catalogue(store, teams, account, resource)
    for name in want:
        same_answer(want[name](), got[name](), name)
    clusters, spaces = want["cluster_costs"]()  # the demo's EKS cluster: _items hands node cost to pods
    assert len(clusters) and all(c["pod_cost"] > 0 for c in clusters) and len(spaces) > 1
    assert want["resource_tag_values"]() and want["resource_cost"]()[0] > 0 and len(want["resource_usage"]())
    assert len(backend.sent()) >= len(want) - 2  # contract_applied and account-less calls may send nothing


def _generated(demo) -> dict[str, str]:
    direct, _tax, teams, account, resource = demo
    out = {}
    for name in catalogue(direct, teams, account, resource):
        store, backend = _warehouse_store(direct)
        catalogue(store, teams, account, resource)[name]()
        out[name] = ";\n\n".join(q.sql for q in backend.sent()) + ("\n" if backend.sent() else "")
    return out


def test_the_athena_sql_of_every_named_query_is_golden_and_known_to_trino(demo) -> None:
    generated = _generated(demo)
    assert generated["contract_applied"] == ""  # no export shape carries FOCUS 1.3 contracts: nothing is sent
    for name, text in generated.items():
        path = GOLDEN / f"{name}.sql"
        if os.environ.get("UPDATE_GOLDEN"):
            GOLDEN.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 rewrites it on purpose"
        for statement in filter(None, text.split(";\n\n")):
            assert unknown_functions(statement) == [], (name, statement[:200])
            assert "IGNORE NULLS" not in statement
            assert "CONTAINS(" not in statement  # Trino's contains is an array's (DuckDB's a string's)
            assert "MATERIALIZED" not in statement and "REPLACE (" not in statement  # DuckDB-only spellings
            assert "GROUP BY ALL" not in statement  # Trino reads ALL as a quantifier that needs grouping columns
            assert re.search(r"(FROM|JOIN) line_items\b", statement) is None  # only ever the mapping view
            assert '"cur"."finops_line_items" AS line_items' in statement


def test_a_windowed_scan_reads_only_its_billing_periods(demo) -> None:
    generated = _generated(demo)
    sweep = generated["sweep_data"]
    # the sweep's rows and values read November only; its trend reads back four weeks, into October
    assert "billing_period >= '2026-11' AND" in sweep and "billing_period <= '2026-11'" in sweep
    assert "billing_period >= '2026-10'" in sweep
    assert "billing_period >=" not in generated["anomaly_series"]  # the whole history: every partition
    assert "billing_period <=" not in generated["anomaly_series"]
    # allocation reads the _items view (a cluster's node cost handed to its pods): its own three scans of
    # line_items (pods, nodes, rows) and its alias carry the window, so a ritual still reads only its month
    for name in ("allocation_costs", "cluster_costs", "idle_node_costs"):
        first = generated[name].split(";\n\n")[0]
        scans = re.findall(r'"cur"\."finops_line_items" AS (\w+)', first)
        assert len(scans) >= 3, name
        for alias in {*scans, "line_items" if name != "idle_node_costs" else "_items"}:
            assert f"{alias}.billing_period >= '2026-11'" in first, (name, alias)
    q = translate("SELECT sum(EffectiveCost) FROM line_items WHERE charge_date >= ? AND charge_date < ?",
                  [START, END])
    assert q.months == ("2026-11", "2026-11")
    q = translate("SELECT sum(EffectiveCost) FROM line_items WHERE charge_date >= ? AND charge_date < ?",
                  [START.replace(month=9, day=30), END.replace(day=1)])
    assert q.months == ("2026-09", "2026-10")  # an exclusive end on the 1st leaves its month out
    assert translate("SELECT count(*) FROM line_items", []).months is None


def test_a_temporary_view_is_inlined_with_its_scans_partition_filtered() -> None:
    view = ("WITH p AS MATERIALIZED (SELECT charge_date AS d FROM line_items WHERE ResourceId IS NOT NULL) "
            "SELECT li.* REPLACE (0.5 * li.EffectiveCost AS EffectiveCost) FROM line_items li "
            "LEFT JOIN p ON p.d = li.charge_date")
    sql = "SELECT sum(EffectiveCost) FROM _items line_items WHERE charge_date >= ? AND charge_date < ?"
    q = translate(sql, [START, END], views={"_items": view}, columns=["EffectiveCost", "charge_date", "billing_period"])
    assert q.months == ("2026-11", "2026-11")  # None had any scan been left unbounded
    for alias in ("line_items", "li"):  # p's scan (named as its table), the view's rows, the view's alias
        assert f"{alias}.billing_period >= '2026-11'" in q.sql
    assert q.sql.count("billing_period >= '2026-11'") == 3
    assert "SELECT 0.5 * li.EffectiveCost AS EffectiveCost, li.charge_date, li.billing_period FROM" in q.sql
    assert "MATERIALIZED" not in q.sql and "REPLACE" not in q.sql
    unbounded = translate("SELECT count(*) FROM _items", [], views={"_items": view}, columns=["EffectiveCost"])
    assert unbounded.months is None and "billing_period >=" not in unbounded.sql


def test_bind_types_parameters_and_leaves_question_marks_in_strings() -> None:
    sql = bind("SELECT '?' AS q, ? AS a, ? AS b, ? AS c FROM t WHERE d >= ?", ["it's", 3, None, START])
    assert sql == ("SELECT '?' AS q, 'it''s' AS a, 3 AS b, NULL AS c FROM t "
                   "WHERE d >= CAST('2026-11-16' AS DATE)")
    with pytest.raises(ValueError, match="2 placeholders but 1"):
        bind("SELECT ?, ?", [1])


def test_the_checker_rejects_functions_trino_does_not_know() -> None:
    assert unknown_functions("SELECT json_valid(x), element_at(m, 'k') FROM t") == ["json_valid"]


@pytest.mark.parametrize("shape", ["cur2", "focus1.2"])
def test_the_mapping_view_is_golden_and_known_to_trino(demo, shape: str) -> None:
    tax = demo[1]
    sql = mapping_view_sql(dataclasses.replace(ATHENA, shape=shape), tax)
    path = GOLDEN / f"mapping_view_{shape.replace('.', '_')}.sql"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(sql + "\n", encoding="utf-8")
    assert sql + "\n" == path.read_text(encoding="utf-8"), f"{path.name} differs; UPDATE_GOLDEN=1 rewrites it"
    body = sql.split(" AS\n", 1)[1]
    assert unknown_functions(body) == []
    # every column the named queries read is made, once per branch of the union
    columns = re.findall(r'AS "?(\w+)"?,?\n', body)
    for needed in ("EffectiveCost", "charge_date", "billing_period", *(f"tag_{k.replace('-', '_')}" for k in tax.keys)):
        assert needed in columns, needed
    if shape == "cur2":  # the importer's two branches: line items and unused commitment
        assert body.count("FROM cur.cur2_export AS t") == 2
        assert "element_at(t.resource_tags" in body.lower() and "t.resource_tags[" not in body.lower()


def test_group_by_all_becomes_the_ordinals_of_the_items_that_are_not_aggregates() -> None:
    """DuckDB's GROUP BY ALL groups by every select item that is not an aggregate (or a window); Trino would read
    ALL as a set quantifier and find no grouping columns. An aggregate inside a scalar subquery does not make its
    item an aggregate of the outer select; a nested select's own GROUP BY ALL is expanded on its own items."""
    from storage.warehouse.dialect import translate

    sql = translate("SELECT a, b AS x, sum(c) AS s, coalesce(max(c), 0) + 1 AS m, (SELECT max(z) FROM u) AS q, "
                    "sum(c) OVER () AS w FROM t GROUP BY ALL ORDER BY 1").sql
    assert "GROUP BY 1, 2, 5 ORDER BY 1" in sql
    nested = translate("WITH q AS (SELECT d, k, count(*) AS n FROM t GROUP BY ALL) "
                       "SELECT k, sum(n) FROM q GROUP BY ALL").sql
    assert "count(*) AS n FROM t GROUP BY 1, 2)" in nested.replace("COUNT", "count") and nested.endswith("GROUP BY 1")
