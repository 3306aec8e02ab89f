"""The demo company's optimisation candidates as line items: a few resources the inbox's own rules find
(an unattached volume, gp2 volumes, an old snapshot, a previous-generation instance, an idle NAT gateway and
load balancer) and one instance right-sized two months before ``as_of`` (its cost halves that day), whose
clean-up action the demo records as done so that the bill verifies its saving.

Every resource sits in an account its team owns and carries that team's tag, so allocation reads them the
same way by tag and by rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class DemoResource:
    resource_id: str
    account: str
    team: str
    service: str
    region: str
    rows: tuple[tuple[str, float, float | None], ...]  # (usage type, cost a day, quantity a day)
    first_days_ago: int = 60


RESOURCES = (
    DemoResource("vol-0d3a1f9e2c7b40011", "111100000005", "data", "Amazon Elastic Block Store", "eu-west-1",
                 (("EUW1-EBS:VolumeUsage.gp3", 6.4, 80.0),)),  # unattached: storage only, no I/O
    DemoResource("vol-0b7c22e9d1f3a8802", "111100000009", "payments", "Amazon Elastic Block Store", "eu-west-1",
                 (("EUW1-EBS:VolumeUsage.gp2", 9.8, 98.0), ("EUW1-EBS:VolumeIOUsage", 0.4, 8e6))),
    DemoResource("vol-0e91c4d7a2b6f5503", "111100000010", "search", "Amazon Elastic Block Store", "eu-west-1",
                 (("EUW1-EBS:VolumeUsage.gp2", 6.6, 66.0), ("EUW1-EBS:VolumeIOUsage", 0.2, 4e6))),
    DemoResource("snap-04f2a9c1e7d3b6604", "111100000005", "data", "Amazon Elastic Block Store", "eu-west-1",
                 (("EUW1-EBS:SnapshotUsage", 3.1, 620.0),), first_days_ago=200),
    DemoResource("i-0a6d3e8f1c2b97705", "111100000010", "search", "Amazon Elastic Compute Cloud", "eu-west-1",
                 (("EUW1-BoxUsage:m4.2xlarge", 9.6, 24.0),)),
    DemoResource("nat-0c8e2f4a6b1d39906", "111100000002", "platform", "Amazon Virtual Private Cloud", "eu-west-1",
                 (("EUW1-NatGateway-Hours", 1.08, 24.0),)),
    DemoResource("arn:aws:elasticloadbalancing:eu-west-1:111100000011:loadbalancer/app/ml-dev-canary/5f1e2d3c4b5a6978",
                 "111100000011", "ml-inference", "Elastic Load Balancing", "eu-west-1",
                 (("EUW1-LoadBalancerUsage", 0.54, 24.0),)),
)
# Right-sized from m5.4xlarge to m5.2xlarge on ``rightsized_on(as_of)``: the demo's done action.
RIGHTSIZED = DemoResource("i-0f1b5c9d3e7a24407", "111100000009", "payments", "Amazon Elastic Compute Cloud",
                          "eu-west-1", (("EUW1-BoxUsage:m5.4xlarge", 18.432, 24.0),), first_days_ago=120)
RIGHTSIZED_AFTER = ("EUW1-BoxUsage:m5.2xlarge", 9.216, 24.0)


def rightsized_on(as_of: date) -> date:
    """The 12th of the month two months before ``as_of``'s: the month after it is complete by ``as_of``."""
    first = as_of.replace(day=1)
    two_back = (first - timedelta(days=1)).replace(day=1)
    two_back = (two_back - timedelta(days=1)).replace(day=1)
    return two_back.replace(day=12)


def _row(res: DemoResource, day: date, usage: str, cost: float, quantity: float | None,
         account_names: dict[str, str]) -> dict[str, object]:
    import pandas as pd

    return {"ChargePeriodStart": pd.Timestamp(day), "ChargePeriodEnd": pd.Timestamp(day + timedelta(days=1)),
            "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "PricingCategory": "Standard",
            "ProviderName": "AWS", "PublisherName": "Amazon Web Services",
            "InvoiceIssuerName": "Amazon Web Services, Inc.", "ServiceName": res.service,
            "ServiceCategory": "Storage" if "Block" in res.service else
            "Compute" if "Compute" in res.service else "Networking",
            "SubAccountId": res.account, "SubAccountName": account_names.get(res.account), "RegionId": res.region,
            "ResourceId": res.resource_id, "ResourceType": res.service.split()[-1], "ListCost": cost,
            "EffectiveCost": cost, "BilledCost": cost, "ConsumedQuantity": quantity, "x_UsageType": usage,
            "Tags": json.dumps({"environment": "prod" if not res.account.endswith("11") else "dev",
                                "team": res.team}, sort_keys=True)}


def optimization_rows(as_of: date, account_names: dict[str, str]) -> pd.DataFrame:
    """The candidates' daily line items up to ``as_of`` (exclusive)."""
    import pandas as pd

    rows = []
    for res in RESOURCES:
        for back in range(res.first_days_ago, 0, -1):
            day = as_of - timedelta(days=back)
            rows += [_row(res, day, u, c, q, account_names) for u, c, q in res.rows]
    changed = rightsized_on(as_of)
    for back in range(RIGHTSIZED.first_days_ago, 0, -1):
        day = as_of - timedelta(days=back)
        usage, cost, qty = RIGHTSIZED.rows[0] if day < changed else RIGHTSIZED_AFTER
        rows.append(_row(RIGHTSIZED, day, usage, cost, qty, account_names))
    return pd.DataFrame(rows)
