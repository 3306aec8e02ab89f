"""The product's own recommendations, from line items alone (for data without Cost Optimization Hub).

Each rule is data (its name, action, effort, restart, how it estimates the saving) plus one small function
over the per-resource usage of the window (``cost_queries.resource_usage``). Parameters live in the
``[waste]`` table of ``rituals/framework/kpi_bands.toml`` (override them in the home's copy).

The window is the last ``window_days`` days of usage data (through the latest usage day). A resource's
**run rate** is its EffectiveCost over the window's last ``run_rate_days`` days, divided by those days,
times 365/12: a resource no longer billed there has no saving to offer and is not listed. Usage types are
matched case-insensitively with SQL LIKE patterns (``%`` any text, ``_`` one character).

A resource a rule earlier in ``RULES`` recommends deleting is not offered to later rules (a volume to delete
is not also a volume to upgrade).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rituals.recommendations import Candidate
from storage import cost_queries

if TYPE_CHECKING:
    import pandas as pd

    from storage.costs import CostStore

DAYS_A_MONTH = 365.0 / 12.0
SOURCE = "rules"


@lru_cache(maxsize=256)
def _like(pattern: str) -> re.Pattern[str]:
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def matches(value: str, patterns: Iterable[str]) -> bool:
    return any(_like(p).fullmatch(value or "") for p in patterns)


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # exclusive
    recent_start: date  # where the run rate is measured from
    run_rate_days: int


@dataclass(frozen=True)
class Resource:
    """One resource's rows of the window, by usage type."""

    resource_id: str
    account: str | None
    region: str | None
    resource_type: str | None
    currency: str
    first_ever: date
    usage: dict[str, dict[str, Any]]  # usage type -> days, first_day, last_day, cost, recent_cost, quantity

    def rows(self, patterns: Iterable[str]) -> list[dict[str, Any]]:
        pats = list(patterns)
        return [dict(r, usage_type=u) for u, r in self.usage.items() if matches(u, pats)]

    def recent_cost(self, patterns: Iterable[str] | None = None) -> float:
        rows = self.usage.values() if patterns is None else self.rows(patterns)
        return float(sum(r["recent_cost"] for r in rows))


def run_rate(recent_cost: float, window: Window) -> float:
    """A month of ``recent_cost`` billed over the window's last ``run_rate_days`` days."""
    return recent_cost / window.run_rate_days * DAYS_A_MONTH


@dataclass(frozen=True)
class Rule:
    name: str
    action_type: str
    title: str  # what it recommends, e.g. "Delete the unattached EBS volume"
    finds: str  # what it looks for
    estimate: str  # how it estimates the saving
    effort: str
    restart_needed: bool
    saving: Callable[[Resource, dict[str, Any], Window], float | None]  # None: not found

    def describe(self, params: dict[str, Any]) -> dict[str, str]:
        return {"rule": self.name, "finds": self.finds.format(**params), "estimate": self.estimate.format(**params)}


# -- the rules ------------------------------------------------------------------------------------------------

def _unattached_ebs(r: Resource, p: dict[str, Any], w: Window) -> float | None:
    storage = r.rows(p["ebs_volume_usage_types"])
    if not storage or r.rows(p["ebs_activity_usage_types"]):
        return None
    if max(int(s["days"]) for s in storage) < int(p["unattached_days"]):
        return None
    return run_rate(r.recent_cost(), w)


def _old_snapshot(r: Resource, p: dict[str, Any], w: Window) -> float | None:
    if not r.rows(p["snapshot_usage_types"]) or (w.end - r.first_ever).days < int(p["snapshot_age_days"]):
        return None
    return run_rate(r.recent_cost(p["snapshot_usage_types"]), w)


def _gp2_volume(r: Resource, p: dict[str, Any], w: Window) -> float | None:
    if not r.rows(p["gp2_usage_types"]):
        return None
    return run_rate(r.recent_cost(p["gp2_usage_types"]), w) * float(p["gp2_to_gp3_saving_share"])


def instance_family(usage_type: str) -> str | None:
    """``EUW1-BoxUsage:m4.large`` -> ``m4``."""
    m = re.search(r"BoxUsage:([a-z0-9-]+)\.", usage_type, re.IGNORECASE)
    return m.group(1).lower() if m else None


def _previous_generation(r: Resource, p: dict[str, Any], w: Window) -> float | None:
    old = {f.lower() for f in p["previous_generation_families"]}
    rows = [u for u in r.usage if instance_family(u) in old]
    if not rows:
        return None
    return run_rate(sum(float(r.usage[u]["recent_cost"]) for u in rows), w) * float(p["previous_generation_saving_share"])


def _idle_by_usage(hours_key: str, traffic_key: str) -> Callable[[Resource, dict[str, Any], Window], float | None]:
    def saving(r: Resource, p: dict[str, Any], w: Window) -> float | None:
        if not r.rows(p[hours_key]):
            return None
        if any(float(t["quantity"] or 0.0) > 0 or t["cost"] > 0 for t in r.rows(p[traffic_key])):
            return None
        return run_rate(r.recent_cost(), w)
    return saving


def _idle_address(r: Resource, p: dict[str, Any], w: Window) -> float | None:
    if not r.rows(p["idle_address_usage_types"]):
        return None
    return run_rate(r.recent_cost(p["idle_address_usage_types"]), w)


_RUN_RATE = "its run rate ({run_rate_days}-day cost x 365/12 / {run_rate_days})"
RULES: tuple[Rule, ...] = (
    Rule("unattached_ebs", "delete", "Delete the unattached EBS volume",
         "EBS volumes ({ebs_volume_usage_types}) billed for storage on {unattached_days}+ days of the window with "
         "no I/O billed ({ebs_activity_usage_types}); billing data has no attachment field, so no I/O is the sign",
         f"all of {_RUN_RATE}", "low", False, _unattached_ebs),
    Rule("idle_nat_gateway", "delete", "Delete the idle NAT gateway",
         "NAT gateways billed for hours ({nat_hour_usage_types}) with no bytes processed ({nat_traffic_usage_types})",
         f"all of {_RUN_RATE}", "low", False, _idle_by_usage("nat_hour_usage_types", "nat_traffic_usage_types")),
    Rule("idle_load_balancer", "delete", "Delete the idle load balancer",
         "Load balancers billed for hours ({load_balancer_hour_usage_types}) with no traffic "
         "({load_balancer_traffic_usage_types})",
         f"all of {_RUN_RATE}", "low", False,
         _idle_by_usage("load_balancer_hour_usage_types", "load_balancer_traffic_usage_types")),
    Rule("idle_address", "delete", "Release the idle Elastic IP address",
         "Elastic IP addresses billed while idle ({idle_address_usage_types})",
         f"the idle-address part of {_RUN_RATE}", "very_low", False, _idle_address),
    Rule("old_snapshot", "delete", "Delete the old EBS snapshot",
         "EBS snapshots ({snapshot_usage_types}) first billed {snapshot_age_days}+ days before the window's end",
         f"the snapshot storage part of {_RUN_RATE}", "low", False, _old_snapshot),
    Rule("gp2_volume", "upgrade", "Move the gp2 volume to gp3",
         "gp2 volumes ({gp2_usage_types})",
         f"{{gp2_to_gp3_saving_share:.0%}} (gp3's lower price per GB-month) of the gp2 storage part of {_RUN_RATE}",
         "low", False, _gp2_volume),
    Rule("previous_generation", "upgrade", "Move the instance to a current-generation family",
         "EC2 instances of a previous-generation family ({previous_generation_families})",
         f"{{previous_generation_saving_share:.0%}} of the previous-generation compute part of {_RUN_RATE}",
         "medium", True, _previous_generation),
)

DEFAULTS: dict[str, Any] = {
    "window_days": 30, "run_rate_days": 7, "unattached_days": 14, "snapshot_age_days": 90,
    "ebs_volume_usage_types": ["%EBS:VolumeUsage%"], "ebs_activity_usage_types": ["%EBS:VolumeIOUsage%"],
    "snapshot_usage_types": ["%EBS:SnapshotUsage%"], "gp2_usage_types": ["%EBS:VolumeUsage.gp2%"],
    "gp2_to_gp3_saving_share": 0.2,
    "previous_generation_families": ["t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "r3", "r4", "i2",
                                     "d2", "g2", "p2", "x1"],
    "previous_generation_saving_share": 0.1,
    "nat_hour_usage_types": ["%NatGateway-Hours%"], "nat_traffic_usage_types": ["%NatGateway-Bytes%"],
    "load_balancer_hour_usage_types": ["%LoadBalancerUsage%"],
    "load_balancer_traffic_usage_types": ["%LCUUsage%", "%DataProcessing-Bytes%"],
    "idle_address_usage_types": ["%IdleAddress%"],
}


def parameters(waste: dict[str, Any]) -> dict[str, Any]:
    """The rules' parameters: the defaults with the ``[waste]`` table's entries over them."""
    return {**DEFAULTS, **{k: v for k, v in waste.items() if k in DEFAULTS}}


def window_for(latest: date, params: dict[str, Any]) -> Window:
    end = latest + timedelta(days=1)
    days = int(params["run_rate_days"])
    return Window(end - timedelta(days=int(params["window_days"])), end, end - timedelta(days=days), days)


def resources(frame: pd.DataFrame) -> list[Resource]:
    out: dict[str, Resource] = {}
    for row in frame.itertuples(index=False):
        rid = str(row.resource_id)
        res = out.get(rid)
        if res is None:
            res = out[rid] = Resource(rid, row.account_id, row.region, row.resource_type,
                                      str(row.currency or "USD"), _day(row.first_ever), {})
        res.usage[str(row.usage_type)] = {"days": int(row.days), "first_day": _day(row.first_day),
                                          "last_day": _day(row.last_day), "cost": float(row.cost or 0.0),
                                          "recent_cost": float(row.recent_cost or 0.0),
                                          "quantity": None if row.quantity != row.quantity else row.quantity}
    return list(out.values())


def _day(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def find(resources_: list[Resource], params: dict[str, Any], window: Window,
         rules: tuple[Rule, ...] = RULES) -> list[Candidate]:
    """Every rule over every resource; a resource one rule deletes is not offered to the later ones."""
    out: list[Candidate] = []
    deleted: set[str] = set()
    for rule in rules:
        for res in resources_:
            if res.resource_id in deleted:
                continue
            saving = rule.saving(res, params, window)
            if saving is None or saving <= 0:
                continue
            if rule.action_type == "delete":
                deleted.add(res.resource_id)
            out.append(Candidate(SOURCE, rule.action_type, res.resource_id, round(saving, 6), res.account,
                                 res.region, res.resource_type, f"{rule.title} {res.resource_id}", res.currency,
                                 rule.effort, rule.restart_needed,
                                 {**rule.describe(params), "window_start": window.start.isoformat(),
                                  "window_end": window.end.isoformat()}))
    out.sort(key=lambda c: (-c.estimated_monthly_savings, c.key))
    return out


def own_recommendations(store: CostStore, waste: dict[str, Any]) -> tuple[Window | None, list[Candidate]]:
    """The rules over the store's last ``window_days`` of usage: the window and what they found."""
    params = parameters(waste)
    latest = cost_queries.latest_usage_day(store)
    if latest is None:
        return None, []
    window = window_for(latest, params)
    frame = cost_queries.resource_usage(store, window.start, window.end, window.recent_start)
    return window, find(resources(frame), params, window)
