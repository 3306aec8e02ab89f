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
