"""The weekly tag sweep's figures: pure functions over small frames read from the cost store.

Coverage has one definition (``rituals.allocation``): spend is EffectiveCost of the configured charge
categories; a row is allocated by tag (its allocation key holds a non-empty, allowed value), else by rule
(the account's owning team, or an ``x_CostCategories`` value), else it is unallocated. ``load_frames`` reads
four small frames with that definition (spend per account, service and allocation state, each unallocated
resource's spend, an 8-week weekly series, spend per tag value) and every figure below is computed from them, so tests can hold each figure against a
hand-computed frame. Percentages are 0-100 and None when there is no positive spend to divide by: credits,
refunds and negative rows never give coverage above 100% or below 0%.

With AWS sync data only (``storage.cost_queries.base.reads_tag_costs``) the frames come from the sync's per-tag
costs: spend per account and allocation value, each key's coverage from its own rows; there is no
per-service or per-resource detail, so those lists are empty and the sweep says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rituals.allocation import Coverage
from rituals.runs import stable_floats
from storage.cost_queries import AWS_TAG_COSTS, sweep_data
from storage.cost_queries.allocation import RESOURCE_COLUMNS
from storage.cost_queries.containers import cluster_costs
from storage.costs import CostStore

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from rituals.ritual import Headline
    from storage.cost_queries.allocation import SweepData

TREND_WEEKS = 8
TOP_RESOURCES = 20
KEY_PREFIX = "key:"
# Value spellings that mean the same thing beyond case and separators (variants are reported, never merged).
SYNONYMS = {"production": "prod", "prd": "prod", "development": "dev", "develop": "dev", "stg": "staging",
            "stage": "staging", "tst": "test", "testing": "test"}
ROW_COLUMNS = ["account_id", "account_name", "service", "how", "team", "unused", "cost"]


def pct_of(part: float, total: float) -> float | None:
    """``part`` as a 0-100 share of ``total``; None when there is no positive spend to divide by."""
    if total is None or total <= 0:
        return None
    return max(0.0, min(100.0, float(part) / float(total) * 100.0))


@dataclass
class SweepFrames:
    """What the sweep reads from the store for ``start <= day < end``."""

    start: date
    end: date
    rows: pd.DataFrame  # ROW_COLUMNS + one bool column "key:<key>" per taxonomy key
    # Each unallocated resource's positive spend (storage.cost_queries.allocation.RESOURCE_COLUMNS), unused
    # commitment left out: the only per-resource figures are the unallocated ones.
    resources: pd.DataFrame
    trend: pd.DataFrame  # bucket (0 = the window itself, 1 = the 7 days before...), total, by_tag, by_rule
    values: pd.DataFrame  # key, value, cost (normalised keys, values as spelled)
    source: str = "line_items"  # or AWS_TAG_COSTS (AWS sync data only)
    by_key: dict[str, float | None] | None = None  # each key's coverage, when rows cannot tell it
    # Shared Kubernetes / ECS clusters (storage.cost_queries.containers.cluster_costs): per cluster, and per
    # cluster and namespace; empty without split cost allocation data.
    clusters: pd.DataFrame | None = None
    namespaces: pd.DataFrame | None = None


def _empty_frames(start: date, end: date, keys: tuple[str, ...]) -> SweepFrames:
    import pandas as pd

    rows = pd.DataFrame({c: pd.Series(dtype=float if c == "cost" else object) for c in ROW_COLUMNS})
    for key in keys:
        rows[KEY_PREFIX + key] = pd.Series(dtype=bool)
    resources = pd.DataFrame({c: pd.Series(dtype=float if c == "cost" else object) for c in RESOURCE_COLUMNS})
    return SweepFrames(start, end, rows, resources, pd.DataFrame(columns=["bucket", "total", "by_tag", "by_rule"]),
                       pd.DataFrame(columns=["key", "value", "cost"]))


def load_frames(store: CostStore, account_teams: dict[str, str], start: date, end: date,
                charge_categories: tuple[str, ...] | None = None, *,
                summed_ready: Callable[[SweepFrames], None] | None = None) -> SweepFrames:
    """The sweep's three frames, read in one read-only connection (``storage.cost_queries.sweep_data``).
    ``summed_ready`` gets the frames without resources and clusters first, when the rollup serves the rest
    (``sweep_data``): every figure but the resources, the clusters and the fix checks is already final."""
    tax = store.taxonomy

    def frames_of(data: SweepData) -> SweepFrames:
        # Group keys that are SQL NULL come back as NaN/NA; the figures below test them with isna().
        rows = data.rows.astype({c: object for c in ROW_COLUMNS if c != "cost"})
        resources = data.resources.astype({c: object for c in RESOURCE_COLUMNS if c != "cost"})
        if data.key_shares is not None:
            # AWS sync data only: each key's coverage comes from that key's own rows (they cannot be joined).
            by_key = {k: None if total is None else pct_of(tagged, total)
                      for k, (tagged, total) in data.key_shares.items()}
            return SweepFrames(start, end, rows, resources, data.trend, data.values, source=data.source,
                               by_key=by_key)
        values = data.values[data.values["value"].notna()].reset_index(drop=True)
        return SweepFrames(start, end, rows, resources, data.trend, values)

    data = sweep_data(store, account_teams, start, end, charge_categories or tax.charge_categories,
                      key_prefix=KEY_PREFIX, trend_weeks=TREND_WEEKS,
                      summed_ready=None if summed_ready is None else (lambda part: summed_ready(frames_of(part))))
    if data is None:
        return _empty_frames(start, end, tax.keys)
    frames = frames_of(data)
    if data.key_shares is not None:
        return frames
    clusters, namespaces = cluster_costs(store, account_teams, start, end, charge_categories or tax.charge_categories)
    return replace(frames, clusters=clusters, namespaces=namespaces)


# -- the figures ------------------------------------------------------------------------------------------
def headline(frames: SweepFrames) -> Coverage:
    rows = frames.rows
    cost = rows["cost"].astype(float)
    return Coverage(frames.start, frames.end, float(cost.sum()), float(cost[rows["how"] == "tag"].sum()),
                    float(cost[rows["how"] == "rule"].sum()))


def key_hygiene(rows: pd.DataFrame, keys: tuple[str, ...]) -> dict[str, float | None]:
    """Per key, the share of spend carrying it (a non-empty value, and an allowed one where listed)."""
    total = float(rows["cost"].sum())
    return {k: pct_of(float(rows.loc[rows[KEY_PREFIX + k].astype(bool), "cost"].sum()), total) for k in keys}


def _allocated(rows: pd.DataFrame) -> pd.Series:
    return rows["cost"].where(rows["how"].notna(), 0.0).astype(float)


def coverage_by(rows: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Spend, allocated and unallocated spend and coverage per value of ``dim`` (account_id or service),
    the leakiest first."""
    import pandas as pd

    frame = pd.DataFrame({dim: rows[dim].astype(object), "cost": rows["cost"].astype(float),
                          "allocated_cost": _allocated(rows)})
    if dim == "account_id":
        frame["account_name"] = rows["account_name"].astype(object)
    agg = {"cost": "sum", "allocated_cost": "sum", **({"account_name": "first"} if dim == "account_id" else {})}
    out = frame.groupby(dim, dropna=False, sort=False).agg(agg).reset_index()
    out["unallocated_cost"] = out["cost"] - out["allocated_cost"]
    out["coverage_pct"] = [pct_of(a, c) for a, c in zip(out["allocated_cost"], out["cost"], strict=True)]
    cols = [dim, *(["account_name"] if dim == "account_id" else []), "cost", "allocated_cost", "unallocated_cost",
            "coverage_pct"]
    return _leakiest_first(out, ["unallocated_cost", "cost"], dim)[cols]


def unallocated_by(rows: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Where the unallocated spend sits: per ``dim`` value with unallocated spend, and its share of it."""
    out = coverage_by(rows, dim)
    out = out[out["unallocated_cost"].abs() > 1e-9].reset_index(drop=True)
    total = float(out["unallocated_cost"].sum())
    out["share_pct"] = [pct_of(u, total) for u in out["unallocated_cost"]]
    keep = [dim, *(["account_name"] if dim == "account_id" else []), "unallocated_cost", "share_pct"]
    return out[keep]


def coverage_by_team(rows: pd.DataFrame) -> pd.DataFrame:
    """Per owning team: its spend, share of all spend, and how much of it its own tags carry (by tag) versus
    account rules (by rule)."""
    import pandas as pd

    total = float(rows["cost"].sum())
    owned = rows[rows["how"].notna()]
    frame = pd.DataFrame({"team": owned["team"].astype(object), "cost": owned["cost"].astype(float),
                          "tag": owned["cost"].where(owned["how"] == "tag", 0.0).astype(float)})
    out = frame.groupby("team", sort=False).sum().reset_index()
    out["share_pct"] = [pct_of(c, total) for c in out["cost"]]
    out["by_tag_pct"] = [pct_of(t, c) for t, c in zip(out["tag"], out["cost"], strict=True)]
    out["by_rule_pct"] = [pct_of(c - t, c) for t, c in zip(out["tag"], out["cost"], strict=True)]
    return _leakiest_first(out, ["cost"], "team")[["team", "cost", "share_pct", "by_tag_pct", "by_rule_pct"]]


def _leakiest_first(frame: pd.DataFrame, money: list[str], key: str) -> pd.DataFrame:
    """``frame`` by ``money`` columns (largest first, compared to the cent), ties by ``key``: the same data
    lists in the same order on every run, whatever order DuckDB's parallel scan returned the rows in."""
    keys = frame[money].round(2).assign(_key=frame[key].astype(str).where(frame[key].notna(), "\uffff"))
    order = keys.sort_values([*money, "_key"], ascending=[*[False] * len(money), True], kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def weekly_trend(frames: SweepFrames, weeks: int = TREND_WEEKS) -> pd.DataFrame:
    """Coverage of each of the ``weeks`` 7-day windows ending at the sweep's end (oldest first); the last
    one is the sweep's own window, so each point is what a sweep run then would have reported."""
    import pandas as pd

    by_bucket = {int(b): (float(t), float(g), float(r)) for b, t, g, r in frames.trend[
        ["bucket", "total", "by_tag", "by_rule"]].itertuples(index=False, name=None)}
    out = []
    for bucket in range(weeks - 1, -1, -1):
        end = frames.end - timedelta(days=7 * bucket)
        start = end - timedelta(days=7)
        total, tag, rule = by_bucket.get(bucket, (0.0, 0.0, 0.0))
        year, week, _ = start.isocalendar()
        out.append({"week": f"{year}-W{week:02d}", "start": start, "end": end, "total_cost": total,
                    "coverage_pct": pct_of(tag + rule, total), "by_tag_pct": pct_of(tag, total)})
    return pd.DataFrame(out)


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


def unallocated_resources(resources: pd.DataFrame, account_teams: dict[str, str], teams: tuple[str, ...],
                          account_id: str | None = None, limit: int | None = TOP_RESOURCES) -> pd.DataFrame:
    """The unallocated resources (``SweepFrames.resources``, optionally of one account), costliest first,
    with a suggested owning team. Unused-commitment rows are not resources: they are reported on their own
    line."""
    import pandas as pd

    part = resources if account_id is None else resources[resources["account_id"] == account_id]
    cols = ["resource_id", "account_id", "account_name", "service", "cost", "suggested_owner"]
    if part.empty:
        return pd.DataFrame(columns=cols)
    grouped = part.assign(cost=part["cost"].astype(float))
    grouped = grouped[grouped["cost"] > 0]
    if limit is not None:
        grouped = grouped.nlargest(limit, "cost", keep="all")  # ties at the cut kept, then ordered below
    grouped = grouped.sort_values(["cost", "resource_id"], ascending=[False, True], kind="stable",
                                  na_position="last")
    if limit is not None:
        grouped = grouped.head(limit)
    grouped = grouped.assign(suggested_owner=[
        suggest_team(r, n, a, account_teams, teams) for r, n, a in
        zip(grouped["resource_id"], grouped["resource_name"], grouped["account_id"], strict=True)])
    out = grouped[cols].astype({c: object for c in cols if c != "cost"})
    return out.where(out.notna(), None).reset_index(drop=True)


def fold_value(value: str) -> str:
    folded = re.sub(r"[\s_]+", "-", value.strip().lower())
    return SYNONYMS.get(folded, folded)


def variants(values: pd.DataFrame, allowed: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """Spellings of one value (``Prod``, ``prod``, ``production``) with the canonical one suggested: the
    allowed value where the taxonomy lists them, else the spelling carrying the most spend."""
    import pandas as pd

    allowed = allowed or {}
    out = []
    frame = values.assign(fold=[fold_value(str(v)) for v in values["value"]], cost=values["cost"].astype(float))
    for (key, fold), group in frame.groupby(["key", "fold"], sort=True):
        listed = [v for v in allowed.get(str(key), ()) if fold_value(v) == fold]
        spellings = group.sort_values(["cost", "value"], ascending=[False, True], kind="stable")
        canonical = listed[0] if listed else str(spellings["value"].iloc[0])
        for value, cost in zip(spellings["value"], spellings["cost"], strict=True):
            if value != canonical:
                out.append({"key": str(key), "value": str(value), "canonical": canonical, "cost": float(cost)})
    frame_out = pd.DataFrame(out, columns=["key", "value", "canonical", "cost"])
    return frame_out.sort_values(["key", "cost"], ascending=[True, False], kind="stable").reset_index(drop=True)


def cluster_rows(frames: SweepFrames) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per shared cluster: its nodes' spend, how much of it reached a team through its pods (or, with the
    platform idle split, the platform team's idle share), and the nodes' idle (unused) capacity; and per
    cluster and namespace, its team and spend (a namespace without a team is the fix to make)."""
    clusters: list[dict[str, Any]] = []
    for r in ([] if frames.clusters is None else frames.clusters.to_dict("records")):
        cost, allocated = float(r["cost"]), float(r["allocated_cost"])
        clusters.append({"cluster": r["cluster"], "nodes": int(r["nodes"]), "pods": int(r["pods"]), "cost": cost,
                         "pod_cost": float(r["pod_cost"]), "idle_cost": float(r["idle_cost"]),
                         "idle_pct": pct_of(float(r["idle_cost"]), cost), "allocated_cost": allocated,
                         "unallocated_cost": cost - allocated, "coverage_pct": pct_of(allocated, cost),
                         "by_tag_cost": float(r["by_tag_cost"]), "by_rule_cost": float(r["by_rule_cost"])})
    spaces = [{"cluster": r["cluster"], "namespace": None if r["namespace"] != r["namespace"] else r["namespace"],
               "team": None if r["team"] != r["team"] else r["team"],
               "how": None if r["how"] != r["how"] else r["how"], "cost": float(r["cost"]),
               "idle_cost": float(r["idle_cost"])}
              for r in ([] if frames.namespaces is None else frames.namespaces.to_dict("records"))]
    return clusters, spaces


def unused_commitment(rows: pd.DataFrame) -> tuple[float, float]:
    """Unused-commitment spend in the window and how much of it is allocated."""
    part = rows[rows["unused"].astype(bool)]
    return float(part["cost"].sum()), float(_allocated(part).sum())


def source_note(source: str | None) -> str | None:
    if source != AWS_TAG_COSTS:
        return None
    return ("From the AWS sync's tag costs (no line item of the window carries tags): services and resources "
            "need imported CUR 2.0 or FOCUS files.")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if v is None or v != v else v) for k, v in r.items()}
            for r in frame.astype(object).to_dict("records")]


def frames_by_key(frames: SweepFrames, keys: tuple[str, ...]) -> dict[str, float | None]:
    """Each key's coverage: from its own rows (AWS sync data), else from the rows' flags."""
    return frames.by_key if frames.by_key is not None else key_hygiene(frames.rows, keys)


def meets_target(coverage_pct: float | None, target_pct: float) -> bool | None:
    return None if coverage_pct is None else coverage_pct >= target_pct


def coverage_json(frames: SweepFrames, cov: Coverage, by_key: dict[str, float | None], trend: pd.DataFrame, *,
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
        "trend": [{**r, "start": r["start"].isoformat(), "end": r["end"].isoformat()} for r in _records(trend)],
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
        detail = rows if self.frames.source == "line_items" else rows.iloc[0:0]
        self.coverage = headline(self.frames)
        self.by_key = frames_by_key(self.frames, self.keys)
        self.by_account = coverage_by(rows, "account_id")
        self.by_service = coverage_by(detail, "service")
        self.by_team = coverage_by_team(rows)
        self.trend = weekly_trend(self.frames)
        self.unallocated_by_account = unallocated_by(rows, "account_id")
        self.unallocated_by_service = unallocated_by(detail, "service")
        resources = self.frames.resources if self.frames.source == "line_items" else self.frames.resources.iloc[0:0]
        self.top_unallocated = unallocated_resources(resources, self.account_teams, self.teams)
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

    def resources_of(self, account_id: str | None) -> pd.DataFrame:
        """Drill-down: every unallocated resource of one account."""
        resources = self.frames.resources if self.frames.source == "line_items" else self.frames.resources.iloc[0:0]
        return unallocated_resources(resources, self.account_teams, self.teams, account_id, limit=None)

    def fix_owner(self, team: str | None) -> str | None:
        return self.fix_owners.get(team, self.fix_owners.get(None))

    def headlines(self) -> list[Headline]:
        """The tag sweep's headline figures (``rituals.definitions.tag_sweep.headlines``)."""
        from rituals.definitions.tag_sweep import headlines

        return headlines(self.as_json())

    def as_json(self) -> dict[str, Any]:
        """The headless ``--json`` object (frozen as the run's numbers when a sweep closes)."""
        records = _records
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

