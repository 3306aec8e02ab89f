"""What every source of recommendations hands the inbox: a candidate (one change to one resource, its
estimated monthly saving, effort and whether it needs a restart), and the action types the inbox knows.

Action types follow Cost Optimization Hub's (``Rightsize``, ``Stop``, ``Upgrade``, ``MigrateToGraviton``,
``Delete``, ``ScaleIn``), written snake_case. Purchases (Savings Plans, reserved instances) are rate, not
usage: they belong to the commitment review and never enter the inbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# action type -> the kind of action accepting it creates
ACTION_KIND = {"rightsize": "rightsizing", "upgrade": "rightsizing", "migrate_to_graviton": "rightsizing",
               "scale_in": "rightsizing", "stop": "cleanup", "delete": "cleanup"}
ACTION_TYPES = tuple(ACTION_KIND)
PURCHASE_TYPES = ("purchase_savings_plans", "purchase_reserved_instances")
EFFORTS = ("very_low", "low", "medium", "high", "very_high")
ACTION_VERBS = {"rightsize": "Right-size", "upgrade": "Upgrade", "migrate_to_graviton": "Move to Graviton",
                "scale_in": "Scale in", "stop": "Stop", "delete": "Delete"}


def snake(text: str) -> str:
    """``MigrateToGraviton`` -> ``migrate_to_graviton``; ``VeryLow`` -> ``very_low``; already snake stays."""
    text = text.strip()
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).replace("-", "_").replace(" ", "_").lower()


@dataclass(frozen=True)
class Candidate:
    source: str  # rules | cost_optimization_hub | compute_optimizer | data_exports
    action_type: str
    resource_id: str
    estimated_monthly_savings: float
    account: str | None = None
    region: str | None = None
    resource_type: str | None = None
    title: str = ""
    currency: str = "USD"
    effort: str | None = None
    restart_needed: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # how the source found it and estimated the saving

    @property
    def key(self) -> str:
        return recommendation_key(self.action_type, self.resource_id)

    def describe(self) -> str:
        return self.title or f"{ACTION_VERBS.get(self.action_type, self.action_type)} {self.resource_id}"


def recommendation_key(action_type: str, resource_id: str) -> str:
    """Same resource and same action: one recommendation, whatever the source. ARNs and bare ids of the same
    resource agree (``arn:aws:ec2:...:volume/vol-1`` and ``vol-1``)."""
    return f"{action_type}:{bare_resource_id(resource_id)}"


def bare_resource_id(resource_id: str) -> str:
    rid = resource_id.strip()
    if rid.startswith("arn:"):
        tail = rid.split(":", 5)[-1]
        # EC2, EBS, NAT: ".../volume/vol-1"; the id is the last path segment. Load balancers keep their
        # "loadbalancer/app/name/id" form, as CUR writes their ResourceId.
        if "/" in tail and not tail.startswith("loadbalancer/"):
            return tail.rsplit("/", 1)[-1]
        return tail
    return rid


STORED_SOURCES = ("cost_optimization_hub", "compute_optimizer", "data_exports")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return bool(value)


def stored_candidates(store: Any, source: str) -> tuple[list[Candidate], int]:
    """The stored recommendations of ``source`` (the sync's or an imported file's) as inbox candidates, and
    how many purchases were left for the commitment review."""
    from storage import cost_queries

    frame = cost_queries.optimization_rows(store, [source])
    if frame is None:
        return [], 0
    out, purchases = [], 0
    for r in frame.to_dict("records"):
        action = snake(str(r["action_type"]))
        if action in PURCHASE_TYPES or action.startswith("purchase"):
            purchases += 1
            continue
        summary = _text(r.get("current_summary"))
        target = _text(r.get("recommended_summary"))
        verb = ACTION_VERBS.get(action, action)
        title = f"{verb} {r['resource_id']}" + (f" ({summary} -> {target})" if summary and target and
                                                summary != target else "")
        effort = _text(r.get("effort"))
        out.append(Candidate(source, action, str(r["resource_id"]), float(r["estimated_monthly_savings"] or 0.0),
                             _text(r.get("account_id")), _text(r.get("region")), _text(r.get("resource_type")),
                             title, _text(r.get("currency")) or "USD", snake(effort) if effort else None,
                             _flag(r.get("restart_needed")),
                             {"recommendation_id": _text(r.get("recommendation_id")), "origin": _text(r.get("origin")),
                              "last_refresh": _text(r.get("last_refresh")),
                              "estimate": f"{source.replace('_', ' ')}'s own estimate"
                                          + (f" over {int(r['lookback_days'])} days"
                                             if r.get("lookback_days") == r.get("lookback_days")
                                             and r.get("lookback_days") is not None else "")}))
    return out, purchases
