"""The weekly tag sweep's figures: pure functions over small tables of plain rows read from the cost store.

Coverage has one definition (``rituals.allocation``): spend is EffectiveCost of the configured charge
categories; a row is allocated by tag (its allocation key holds a non-empty, allowed value), else by rule
(the account's owning team, or an ``x_CostCategories`` value), else it is unallocated. ``load_frames`` reads
four small tables with that definition (spend per account, service and allocation state, each unallocated
resource's spend, an 8-week weekly series, spend per tag value) and every figure below is computed from
them in plain Python (the sweep imports no pandas), so tests can hold each figure against hand-computed
rows. Sums are ``math.fsum``: the same figure whatever order the rows came in. Percentages are 0-100 and None when there is no positive spend to divide by: credits,
refunds and negative rows never give coverage above 100% or below 0%.

With AWS sync data only (``storage.cost_queries.base.reads_tag_costs``) the tables come from the sync's per-tag
costs: spend per account and allocation value, each key's coverage from its own rows; there is no
per-service or per-resource detail, so those lists are empty and the sweep says why.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rituals.allocation import Coverage
from rituals.runs import stable_floats
from storage.cost_queries import AWS_TAG_COSTS, sweep_data
from storage.cost_queries.allocation import ResourceLine, SweepRow, TrendBucket, ValueCost
from storage.cost_queries.containers import cluster_costs
from storage.costs import CostStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from rituals.ritual import Headline
    from storage.cost_queries.allocation import SweepData

TREND_WEEKS = 8
TOP_RESOURCES = 20
# Value spellings that mean the same thing beyond case and separators (variants are reported, never merged).
SYNONYMS = {"production": "prod", "prd": "prod", "development": "dev", "develop": "dev", "stg": "staging",
            "stage": "staging", "tst": "test", "testing": "test"}
Records = list[dict[str, Any]]


def pct_of(part: float, total: float) -> float | None:
    """``part`` as a 0-100 share of ``total``; None when there is no positive spend to divide by."""
    if total is None or total <= 0:
        return None
    return max(0.0, min(100.0, float(part) / float(total) * 100.0))


def _sum(costs: Iterable[float]) -> float:
    """A sum that does not depend on the order DuckDB's parallel scan returned the rows in."""
    return math.fsum(costs)


@dataclass
class SweepFrames:
    """What the sweep reads from the store for ``start <= day < end``: four small tables of plain rows."""

    start: date
    end: date
    rows: list[SweepRow]  # spend per account, service and allocation state, one flag per taxonomy key
    # Each unallocated resource's positive spend, unused commitment left out: the only per-resource figures
    # are the unallocated ones.
    resources: list[ResourceLine]
    trend: list[TrendBucket]  # bucket (0 = the window itself, 1 = the 7 days before...), total, by_tag, by_rule
    values: list[ValueCost]  # key, value, cost (normalised keys, values as spelled, never None)
    source: str = "line_items"  # or AWS_TAG_COSTS (AWS sync data only)
    by_key: dict[str, float | None] | None = None  # each key's coverage, when rows cannot tell it
    # Shared Kubernetes / ECS clusters (storage.cost_queries.containers.cluster_costs): per cluster, and per
    # cluster and namespace; empty without split cost allocation data.
    clusters: Records | None = None
    namespaces: Records | None = None


def load_frames(store: CostStore, account_teams: dict[str, str], start: date, end: date,
                charge_categories: tuple[str, ...] | None = None, *,
                summed_ready: Callable[[SweepFrames], None] | None = None) -> SweepFrames:
    """The sweep's tables, read in one read-only connection (``storage.cost_queries.sweep_data``).
    ``summed_ready`` gets the tables without resources and clusters first, when the rollup serves the rest
    (``sweep_data``): every figure but the resources, the clusters and the fix checks is already final."""
    tax = store.taxonomy

    def frames_of(data: SweepData) -> SweepFrames:
        if data.key_shares is not None:
            # AWS sync data only: each key's coverage comes from that key's own rows (they cannot be joined).
            by_key = {k: None if total is None else pct_of(tagged, total)
                      for k, (tagged, total) in data.key_shares.items()}
            return SweepFrames(start, end, data.rows, data.resources, data.trend, data.values, source=data.source,
                               by_key=by_key)
        values = [v for v in data.values if v.value is not None]
        return SweepFrames(start, end, data.rows, data.resources, data.trend, values)

    data = sweep_data(store, account_teams, start, end, charge_categories or tax.charge_categories,
                      trend_weeks=TREND_WEEKS,
                      summed_ready=None if summed_ready is None else (lambda part: summed_ready(frames_of(part))))
    if data is None:
        return SweepFrames(start, end, [], [], [], [])
    frames = frames_of(data)
    if data.key_shares is not None:
        return frames
    clusters, namespaces = cluster_costs(store, account_teams, start, end, charge_categories or tax.charge_categories)
    return replace(frames, clusters=clusters, namespaces=namespaces)


# -- the figures ------------------------------------------------------------------------------------------
def headline(frames: SweepFrames) -> Coverage:
    rows = frames.rows
    return Coverage(frames.start, frames.end, _sum(r.cost for r in rows),
                    _sum(r.cost for r in rows if r.how == "tag"), _sum(r.cost for r in rows if r.how == "rule"))


def key_hygiene(rows: list[SweepRow], keys: tuple[str, ...]) -> dict[str, float | None]:
    """Per key, the share of spend carrying it (a non-empty value, and an allowed one where listed)."""
    total = _sum(r.cost for r in rows)
    return {k: pct_of(_sum(r.cost for r in rows if r.flags[i]), total) for i, k in enumerate(keys)}


def coverage_by(rows: list[SweepRow], dim: str) -> Records:
    """Spend, allocated and unallocated spend and coverage per value of ``dim`` (account_id or service),
    the leakiest first."""
    groups: dict[Any, tuple[list[Any], list[float], list[float]]] = {}
    for r in rows:
        name, costs, allocated = groups.setdefault(getattr(r, dim), ([None], [], []))
        if name[0] is None:
            name[0] = r.account_name  # the first name given
        costs.append(r.cost)
        if r.how is not None:
            allocated.append(r.cost)
    out = []
    for value, (name, costs, allocated) in groups.items():
        cost, done = _sum(costs), _sum(allocated)
        out.append({dim: value, **({"account_name": name[0]} if dim == "account_id" else {}), "cost": cost,
                    "allocated_cost": done, "unallocated_cost": cost - done, "coverage_pct": pct_of(done, cost)})
    return _leakiest_first(out, ["unallocated_cost", "cost"], dim)


def unallocated_by(rows: list[SweepRow], dim: str) -> Records:
    """Where the unallocated spend sits: per ``dim`` value with unallocated spend, and its share of it."""
    out = [r for r in coverage_by(rows, dim) if abs(r["unallocated_cost"]) > 1e-9]
    total = _sum(r["unallocated_cost"] for r in out)
    return [{dim: r[dim], **({"account_name": r["account_name"]} if dim == "account_id" else {}),
             "unallocated_cost": r["unallocated_cost"], "share_pct": pct_of(r["unallocated_cost"], total)}
            for r in out]


def coverage_by_team(rows: list[SweepRow]) -> Records:
    """Per owning team: its spend, share of all spend, and how much of it its own tags carry (by tag) versus
    account rules (by rule)."""
    total = _sum(r.cost for r in rows)
    teams: dict[str, tuple[list[float], list[float]]] = {}
    for r in rows:
        if r.how is not None and r.team is not None:
            costs, tagged = teams.setdefault(r.team, ([], []))
            costs.append(r.cost)
            if r.how == "tag":
                tagged.append(r.cost)
    out = []
    for team, (costs, tagged) in teams.items():
        cost, tag = _sum(costs), _sum(tagged)
        out.append({"team": team, "cost": cost, "share_pct": pct_of(cost, total), "by_tag_pct": pct_of(tag, cost),
                    "by_rule_pct": pct_of(cost - tag, cost)})
    return _leakiest_first(out, ["cost"], "team")


def _leakiest_first(records: Records, money: list[str], key: str) -> Records:
    """``records`` by ``money`` fields (largest first, compared to the cent), ties by ``key`` (None last):
    the same data lists in the same order on every run, whatever order DuckDB's parallel scan returned the
    rows in."""
    return sorted(records, key=lambda r: (*(-round(r[m], 2) for m in money), r[key] is None,
                                          "" if r[key] is None else str(r[key])))


def weekly_trend(frames: SweepFrames, weeks: int = TREND_WEEKS) -> Records:
    """Coverage of each of the ``weeks`` 7-day windows ending at the sweep's end (oldest first); the last
    one is the sweep's own window, so each point is what a sweep run then would have reported."""
    by_bucket = {b.bucket: (b.total, b.by_tag, b.by_rule) for b in frames.trend}
    out = []
    for bucket in range(weeks - 1, -1, -1):
        end = frames.end - timedelta(days=7 * bucket)
        start = end - timedelta(days=7)
        total, tag, rule = by_bucket.get(bucket, (0.0, 0.0, 0.0))
        year, week, _ = start.isocalendar()
        out.append({"week": f"{year}-W{week:02d}", "start": start, "end": end, "total_cost": total,
                    "coverage_pct": pct_of(tag + rule, total), "by_tag_pct": pct_of(tag, total)})
    return out


def resource_label(resource_id: Any, resource_name: Any = None) -> str:
    """The name a person would use: the ResourceName, else the last segment of the id or ARN."""
    if isinstance(resource_name, str) and resource_name.strip():
        return resource_name.strip()
    if not isinstance(resource_id, str):
        return ""
    return re.split(r"[:/]", resource_id.strip())[-1]


def suggest_team(resource_id: Any, resource_name: Any, account_id: Any, account_teams: dict[str, str],
                 teams: tuple[str, ...]) -> str | None:
    """The account's team, else the team whose name prefixes the resource's name (after a short type prefix
    such as ``i-`` or ``db-``), longest name first; None when nothing says."""
    if isinstance(account_id, str) and account_id in account_teams:
        return account_teams[account_id]
    name = resource_label(resource_id, resource_name).lower()
    if not name:
        return None
    heads = [name]
    m = re.match(r"^[a-z0-9]{1,3}[-_]", name)
    if m:
        heads.append(name[m.end():])
    for team in sorted(teams, key=len, reverse=True):
        low = team.lower()
        for head in heads:
            if head == low or (head.startswith(low) and not head[len(low)].isalnum()):
                return team
    return None


def unallocated_resources(resources: list[ResourceLine], account_teams: dict[str, str], teams: tuple[str, ...],
                          account_id: str | None = None, limit: int | None = TOP_RESOURCES) -> Records:
    """The unallocated resources (``SweepFrames.resources``, optionally of one account), costliest first
    (ties by resource id, None last), with a suggested owning team. Unused-commitment rows are not
    resources: they are reported on their own line."""
    part = [r for r in resources if r.cost > 0 and (account_id is None or r.account_id == account_id)]

    def order(r: ResourceLine) -> tuple[Any, ...]:
        return (-r.cost, r.resource_id is None, r.resource_id or "", r.account_id or "", r.service or "")

    chosen = sorted(part, key=order) if limit is None else heapq.nsmallest(limit, part, key=order)
    return [{"resource_id": r.resource_id, "account_id": r.account_id, "account_name": r.account_name,
             "service": r.service, "cost": r.cost,
             "suggested_owner": suggest_team(r.resource_id, r.resource_name, r.account_id, account_teams, teams)}
            for r in chosen]


def fold_value(value: str) -> str:
    folded = re.sub(r"[\s_]+", "-", value.strip().lower())
    return SYNONYMS.get(folded, folded)


def variants(values: list[ValueCost], allowed: dict[str, tuple[str, ...]] | None = None) -> Records:
    """Spellings of one value (``Prod``, ``prod``, ``production``) with the canonical one suggested: the
    allowed value where the taxonomy lists them, else the spelling carrying the most spend."""
    allowed = allowed or {}
    groups: dict[tuple[str, str], list[ValueCost]] = {}
    for v in values:
        groups.setdefault((str(v.key), fold_value(str(v.value))), []).append(v)
    out: Records = []
    for key, fold in sorted(groups):
        listed = [v for v in allowed.get(key, ()) if fold_value(v) == fold]
        spellings = sorted(groups[key, fold], key=lambda v: (-v.cost, str(v.value)))
        canonical = listed[0] if listed else str(spellings[0].value)
        out.extend({"key": key, "value": str(v.value), "canonical": canonical, "cost": v.cost}
                   for v in spellings if str(v.value) != canonical)
    return sorted(out, key=lambda r: (r["key"], -r["cost"]))  # stable: spellings keep their order on ties


def cluster_rows(frames: SweepFrames) -> tuple[Records, Records]:
    """Per shared cluster: its nodes' spend, how much of it reached a team through its pods (or, with the
    platform idle split, the platform team's idle share), and the nodes' idle (unused) capacity; and per
    cluster and namespace, its team and spend (a namespace without a team is the fix to make)."""
    clusters: Records = []
    for r in frames.clusters or []:
        cost, allocated = float(r["cost"]), float(r["allocated_cost"])
        clusters.append({"cluster": r["cluster"], "nodes": int(r["nodes"]), "pods": int(r["pods"]), "cost": cost,
                         "pod_cost": float(r["pod_cost"]), "idle_cost": float(r["idle_cost"]),
                         "idle_pct": pct_of(float(r["idle_cost"]), cost), "allocated_cost": allocated,
                         "unallocated_cost": cost - allocated, "coverage_pct": pct_of(allocated, cost),
                         "by_tag_cost": float(r["by_tag_cost"]), "by_rule_cost": float(r["by_rule_cost"])})
    spaces = [{"cluster": r["cluster"], "namespace": r["namespace"], "team": r["team"], "how": r["how"],
               "cost": float(r["cost"]), "idle_cost": float(r["idle_cost"])} for r in frames.namespaces or []]
    return clusters, spaces


def unused_commitment(rows: list[SweepRow]) -> tuple[float, float]:
    """Unused-commitment spend in the window and how much of it is allocated."""
    part = [r for r in rows if r.unused]
    return _sum(r.cost for r in part), _sum(r.cost for r in part if r.how is not None)


def source_note(source: str | None) -> str | None:
    if source != AWS_TAG_COSTS:
        return None
    return ("From the AWS sync's tag costs (no line item of the window carries tags): services and resources "
            "need imported CUR 2.0 or FOCUS files.")


def frames_by_key(frames: SweepFrames, keys: tuple[str, ...]) -> dict[str, float | None]:
    """Each key's coverage: from its own rows (AWS sync data), else from the rows' flags."""
    return frames.by_key if frames.by_key is not None else key_hygiene(frames.rows, keys)


def meets_target(coverage_pct: float | None, target_pct: float) -> bool | None:
    return None if coverage_pct is None else coverage_pct >= target_pct


def coverage_json(frames: SweepFrames, cov: Coverage, by_key: dict[str, float | None], trend: Records, *,
                  currency: str, allocation_key: str, charge_categories: tuple[str, ...],
                  target_pct: float) -> dict[str, Any]:
    """The Coverage step's part of the sweep's ``--json`` object (``Sweep.as_json`` holds it as is): the
    headline, per key and the weekly trend, which the summed spend gives."""
    pct = cov.coverage_pct
    return stable_floats({
        "start": cov.start.isoformat(), "end": cov.end.isoformat(), "currency": currency,
        "allocation_key": allocation_key, "charge_categories": list(charge_categories), "source": frames.source,
        "total_cost": cov.total_cost, "allocated_cost": cov.allocated_cost,
        "unallocated_cost": cov.unallocated_cost, "by_tag_cost": cov.by_tag_cost,
        "by_rule_cost": cov.by_rule_cost, "coverage_pct": pct, "by_tag_pct": cov.by_tag_pct,
        "by_rule_pct": cov.by_rule_pct, "target_pct": target_pct,
        "meets_target": meets_target(pct, target_pct),
        "by_key": by_key,
        "trend": [{**r, "start": r["start"].isoformat(), "end": r["end"].isoformat()} for r in trend],
    })


def summed_coverage(frames: SweepFrames, keys: tuple[str, ...], **labels: Any) -> dict[str, Any]:
    """``coverage_json`` from the summed spend alone (the resources, clusters and fix checks still being
    read): what the sweep's screen paints first, equal to the same keys of the whole sweep's object."""
    return coverage_json(frames, headline(frames), frames_by_key(frames, keys), weekly_trend(frames), **labels)


# -- the whole sweep --------------------------------------------------------------------------------------
@dataclass
class Sweep:
    frames: SweepFrames
    currency: str
    allocation_key: str
    keys: tuple[str, ...]
    charge_categories: tuple[str, ...]
    target_pct: float
    account_teams: dict[str, str]
    teams: tuple[str, ...]
    allowed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Filled from the records (rituals.tag_fixes): team -> owner handle, who owns unused commitment, checks.
    fix_owners: dict[str | None, str | None] = field(default_factory=dict)
    commitment_owner: str | None = None
    fix_checks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rows = self.frames.rows
        # AWS sync data only has no services or resources: those lists come from no rows at all.
        detail = rows if self.frames.source == "line_items" else []
        self.coverage = headline(self.frames)
        self.by_key = frames_by_key(self.frames, self.keys)
        self.by_account = coverage_by(rows, "account_id")
        self.by_service = coverage_by(detail, "service")
        self.by_team = coverage_by_team(rows)
        self.trend = weekly_trend(self.frames)
        self.unallocated_by_account = unallocated_by(rows, "account_id")
        self.unallocated_by_service = unallocated_by(detail, "service")
        self.top_unallocated = unallocated_resources(self._resources, self.account_teams, self.teams)
        self.variants = variants(self.frames.values, self.allowed)
        self.unused_cost, self.unused_allocated = unused_commitment(rows)
        self.clusters, self.cluster_namespaces = cluster_rows(self.frames)

    @property
    def source_note(self) -> str | None:
        """Where the figures come from, when not from line items (shown with them)."""
        return source_note(self.frames.source)

    @property
    def meets_target(self) -> bool | None:
        return meets_target(self.coverage.coverage_pct, self.target_pct)

    @property
    def _resources(self) -> list[ResourceLine]:
        # AWS sync data only has no resources.
        return self.frames.resources if self.frames.source == "line_items" else []

    def resources_of(self, account_id: str | None) -> Records:
        """Drill-down: every unallocated resource of one account."""
        return unallocated_resources(self._resources, self.account_teams, self.teams, account_id, limit=None)

    def fix_owner(self, team: str | None) -> str | None:
        return self.fix_owners.get(team, self.fix_owners.get(None))

    def headlines(self) -> list[Headline]:
        """The tag sweep's headline figures (``rituals.definitions.tag_sweep.headlines``)."""
        from rituals.definitions.tag_sweep import headlines

        return headlines(self.as_json())

    def as_json(self) -> dict[str, Any]:
        """The headless ``--json`` object (frozen as the run's numbers when a sweep closes)."""
        def records(rows: Records) -> Records:
            return [dict(r) for r in rows]

        top = records(self.top_unallocated)
        for row in top:
            row["fix_owner"] = self.fix_owner(row["suggested_owner"])
        unused = None
        if abs(self.unused_cost) > 1e-9:
            unused = {"cost": self.unused_cost, "allocated_cost": self.unused_allocated,
                      "owner": self.commitment_owner}
        head = coverage_json(self.frames, self.coverage, self.by_key, self.trend, currency=self.currency,
                             allocation_key=self.allocation_key, charge_categories=self.charge_categories,
                             target_pct=self.target_pct)
        trend = head.pop("trend")
        return stable_floats({
            **head,
            "by_account": records(self.by_account),
            "by_service": records(self.by_service),
            "by_team": records(self.by_team),
            "trend": trend,
            "unallocated_by_account": records(self.unallocated_by_account),
            "unallocated_by_service": records(self.unallocated_by_service),
            "top_unallocated": top,
            "variants": records(self.variants),
            "unused_commitment": unused,
            "fix_checks": list(self.fix_checks),
            "clusters": self.clusters,
            "cluster_namespaces": self.cluster_namespaces,
        })

