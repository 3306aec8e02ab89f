"""The demo company: a seeded, deterministic generator of a realistic AWS bill, written as FOCUS rows.

Modelled on the reference case of FINOPS-MODEL.md: a Series-B B2B SaaS with 7 teams and 12 accounts,
about $95K a month (the last full month) growing about 3% a month, 13 full months plus the current month of
daily line items, with one EKS cluster shared by three teams (CUR 2.0 split cost allocation rows for its
pods). Allocation starts near 60% and improves toward 90% as teams tag; the tags are messy
(key spellings, value variants, missing keys, a retired team). Savings Plans and an RDS reservation give
55-65% coverage at 90-97% utilization, one Savings Plan expiring within 60 days. Five anomalies are
injected. Same seed and ``as_of`` give the same rows.

``generate`` returns the frame and its ground truth (allocation by week, anomaly windows, commitment
figures), computed from the generator's own arrays rather than from the store, so tests can hold the
rituals' figures against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

COMPANY = "Harbor Analytics"
BILLING_ACCOUNT = "900000000001"
TEAMS = ("platform", "payments", "search", "data", "ml-inference", "web", "mobile")
RETIRED_TEAM = "growth"
CURRENCY = "USD"
LAST_FULL_MONTH_TARGET = 95_000.0
MONTHLY_GROWTH = 0.03

# account id -> (name, owning team or None for an account several teams share, environment)
ACCOUNTS: dict[str, tuple[str, str | None, str]] = {
    "111100000001": ("platform-shared", "platform", "prod"),
    "111100000002": ("network", "platform", "prod"),
    "111100000003": ("security", "platform", "prod"),
    "111100000004": ("prod-main", None, "prod"),
    "111100000005": ("data-prod", "data", "prod"),
    "111100000006": ("ml-prod", "ml-inference", "prod"),
    "111100000007": ("staging", None, "staging"),
    "111100000008": ("dev", None, "dev"),
    "111100000009": ("payments-pci", "payments", "prod"),
    "111100000010": ("search-prod", "search", "prod"),
    "111100000011": ("ml-dev", "ml-inference", "dev"),
    "111100000012": ("sandbox", None, "dev"),
}
# The platform account's spend (EKS control plane, shared tooling, support) is split across the teams.
SHARED_ACCOUNTS = ("111100000001",)

# service -> (ServiceCategory, commitment family or None, relative weight of a resource's cost)
SERVICES: dict[str, tuple[str, str | None]] = {
    "Amazon Elastic Compute Cloud": ("Compute", "sp"),
    "AWS Fargate": ("Compute", "sp"),
    "AWS Lambda": ("Compute", "sp"),
    "Amazon Relational Database Service": ("Databases", "ri"),
    "Amazon ElastiCache": ("Databases", None),
    "Amazon DynamoDB": ("Databases", None),
    "Amazon Simple Storage Service": ("Storage", None),
    "Amazon Elastic Block Store": ("Storage", None),
    "Amazon CloudWatch": ("Management and Governance", None),
    "Amazon Virtual Private Cloud": ("Networking", None),
    "Amazon CloudFront": ("Networking", None),
    "Elastic Load Balancing": ("Networking", None),
    "Amazon OpenSearch Service": ("Analytics", None),
    "Amazon Redshift": ("Analytics", None),
    "AWS Glue": ("Analytics", None),
    "Amazon Kinesis": ("Analytics", None),
    "Amazon SageMaker": ("AI and Machine Learning", None),
    "Amazon Elastic Kubernetes Service": ("Compute", None),
    "Amazon GuardDuty": ("Security", None),
    "AWS Config": ("Management and Governance", None),
}
# Which services each team runs, with the share of the team's spend.
TEAM_MIX: dict[str, dict[str, float]] = {
    "platform": {"Amazon Elastic Kubernetes Service": 0.15, "Amazon Elastic Compute Cloud": 0.3,
                 "Amazon CloudWatch": 0.15, "Amazon Virtual Private Cloud": 0.2, "Elastic Load Balancing": 0.1,
                 "Amazon GuardDuty": 0.05, "AWS Config": 0.05},
    "payments": {"Amazon Elastic Compute Cloud": 0.35, "Amazon Relational Database Service": 0.35,
                 "Amazon ElastiCache": 0.1, "Amazon Simple Storage Service": 0.05, "AWS Lambda": 0.05,
                 "Amazon DynamoDB": 0.1},
    "search": {"Amazon OpenSearch Service": 0.45, "Amazon Elastic Compute Cloud": 0.35,
               "Amazon Elastic Block Store": 0.1, "Amazon Simple Storage Service": 0.1},
    "data": {"Amazon Redshift": 0.35, "AWS Glue": 0.15, "Amazon Simple Storage Service": 0.2,
             "Amazon Kinesis": 0.1, "Amazon Elastic Compute Cloud": 0.2},
    "ml-inference": {"Amazon SageMaker": 0.35, "Amazon Elastic Compute Cloud": 0.5,
                     "Amazon Simple Storage Service": 0.15},
    "web": {"AWS Fargate": 0.35, "Amazon CloudFront": 0.2, "Amazon Relational Database Service": 0.25,
            "Amazon Simple Storage Service": 0.1, "AWS Lambda": 0.1},
    "mobile": {"AWS Fargate": 0.4, "Amazon DynamoDB": 0.25, "AWS Lambda": 0.2, "Amazon CloudFront": 0.15},
    RETIRED_TEAM: {"Amazon Elastic Compute Cloud": 0.6, "Amazon Simple Storage Service": 0.4},
}
# Each team's share of the first month's spend and its monthly growth (ML grows fastest).
TEAM_SHARE = {"platform": 0.17, "payments": 0.18, "search": 0.14, "data": 0.15, "ml-inference": 0.08,
              "web": 0.14, "mobile": 0.10, RETIRED_TEAM: 0.04}
TEAM_GROWTH = {"platform": 0.025, "payments": 0.025, "search": 0.022, "data": 0.025, "ml-inference": 0.085,
               "web": 0.024, "mobile": 0.024, RETIRED_TEAM: -0.04}
# Where a team's resources run: (account, share of the team's resources).
TEAM_ACCOUNTS: dict[str, list[tuple[str, float]]] = {
    "platform": [("111100000001", 0.55), ("111100000002", 0.3), ("111100000003", 0.15)],
    "payments": [("111100000004", 0.45), ("111100000009", 0.35), ("111100000007", 0.12), ("111100000008", 0.08)],
    "search": [("111100000010", 0.4), ("111100000004", 0.4), ("111100000007", 0.12), ("111100000008", 0.08)],
    "data": [("111100000005", 0.75), ("111100000007", 0.1), ("111100000008", 0.15)],
    "ml-inference": [("111100000006", 0.8), ("111100000011", 0.2)],
    "web": [("111100000004", 0.7), ("111100000007", 0.2), ("111100000008", 0.1)],
    "mobile": [("111100000004", 0.75), ("111100000007", 0.15), ("111100000008", 0.1)],
    RETIRED_TEAM: [("111100000012", 1.0)],
}
# One EKS cluster in the shared prod-main account, on EC2 nodes whose own tags name no team: split cost
# allocation data (the pods' rows) hands each node's cost to the namespaces that ran on it.
CLUSTER = "harbor-prod"
CLUSTER_ACCOUNT = "111100000004"
CLUSTER_NODES = 6
NODE_TYPE, NODE_VCPU, NODE_GIB, NODE_HOURLY = "m5.4xlarge", 16, 64, 0.768
# namespace -> (its Kubernetes labels, the share of a node its pods take). The checkout pods carry the
# team label; the others' teams come from the demo config's [containers.namespaces] (CLUSTER_TEAMS).
NAMESPACES: dict[str, tuple[dict[str, str], float]] = {
    "checkout": ({"team": "payments", "app": "checkout-api"}, 0.32),
    "search-api": ({"app": "search-api"}, 0.24),
    "storefront": ({"app": "storefront"}, 0.18),
    "kube-system": ({}, 0.05),
}
CLUSTER_TEAMS = {"search-api": "search", "storefront": "web", "kube-system": "platform"}
RESOURCES_PER_TEAM = 80
SP_DISCOUNT = 0.28  # Savings Plan discount on the on-demand rate
RI_DISCOUNT = 0.35  # RDS reservation discount


@dataclass(frozen=True)
class Anomaly:
    key: str
    title: str
    account_id: str
    service: str
    start: date
    end: date  # exclusive
    extra_per_day: float
    team: str
    planned: bool = False


@dataclass(frozen=True)
class Commitment:
    commitment_id: str
    type: str  # "Savings Plan" / "Reservation"
    description: str
    family: str  # "sp" or "ri"
    start: date
    end: date  # exclusive
    daily_amount: float  # amortised commitment per day
    term_years: int
    payment_option: str
    account_id: str

    @property
    def hourly(self) -> float:
        return round(self.daily_amount / 24.0, 4)


@dataclass
class DemoTruth:
    """What the generator knows, for tests to hold the rituals against."""

    as_of: date
    first_day: date
    allocation_by_week: dict[str, float] = field(default_factory=dict)  # ISO week -> coverage %
    usage_by_week: dict[str, tuple[float, float]] = field(default_factory=dict)  # week -> (total, allocated)
    monthly_totals: dict[str, float] = field(default_factory=dict)  # YYYY-MM -> EffectiveCost
    anomalies: list[Anomaly] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    coverage_pct: float = 0.0  # over the last 30 days, on the on-demand equivalent
    utilization_pct: float = 0.0  # over the last 30 days
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # YYYY-MM -> metric -> value
    budgets: dict[str, dict[str, float]] = field(default_factory=dict)  # YYYY-MM -> team -> amount


def history_start(as_of: date) -> date:
    """The first day of the thirteenth full month before ``as_of``'s month."""
    index = as_of.year * 12 + as_of.month - 1 - 13
    return date(index // 12, index % 12 + 1, 1)


def _anomalies(as_of: date) -> list[Anomaly]:
    d = as_of
    return [
        Anomaly("nat", "Runaway NAT gateway data transfer", "111100000002", "Amazon Virtual Private Cloud",
                d - timedelta(days=47), d - timedelta(days=41), 900.0, "platform"),
        Anomaly("gpu", "Forgotten GPU dev cluster", "111100000011", "Amazon Elastic Compute Cloud",
                d - timedelta(days=104), d - timedelta(days=92), 1400.0, "ml-inference"),
        Anomaly("logs", "Log-ingestion spike", "111100000001", "Amazon CloudWatch",
                d - timedelta(days=21), d - timedelta(days=17), 650.0, "platform"),
        Anomaly("migration", "Planned Redshift migration", "111100000005", "Amazon Redshift",
                d - timedelta(days=200), d - timedelta(days=190), 700.0, "data", planned=True),
        Anomaly("reindex", "Search re-index running hot", "111100000010", "Amazon OpenSearch Service",
                d - timedelta(days=3), d, 550.0, "search"),
    ]


def _tags(team: str, env: str, service: str, rng: np.random.Generator) -> tuple[str | None, str, str]:
    """The Tags JSON before and after the resource is tagged with its team (messy on purpose)."""
    key_team = rng.choice(["team", "team", "team", "Team", " team", "TEAM"])
    env_key = rng.choice(["environment", "environment", "env", "Environment"])
    env_value = {"prod": rng.choice(["prod", "prod", "Prod", "production"]),
                 "staging": rng.choice(["staging", "staging", "stg"]),
                 "dev": rng.choice(["dev", "dev", "development"])}[env]
    base: dict[str, str] = {}
    if rng.random() < 0.85:
        base[str(env_key)] = str(env_value)
    if rng.random() < 0.6:
        base["service"] = service.split()[-1].lower()
    if rng.random() < 0.5:
        base["cost-center" if rng.random() < 0.7 else "CostCenter"] = f"cc-{100 + TEAMS.index(team) * 10}" \
            if team in TEAMS else "cc-999"
    if rng.random() < 0.4:
        base["owner"] = f"{team}-oncall"
    after = dict(base)
    value = team if team != "payments" or rng.random() > 0.1 else "Payments"
    after[str(key_team)] = value
    before = json.dumps(base, sort_keys=True) if base else None
    return before, json.dumps(after, sort_keys=True), value


def generate(as_of: date, seed: int = 7) -> tuple[pd.DataFrame, DemoTruth]:
    """The demo's FOCUS line items from ``history_start(as_of)`` up to (not including) ``as_of``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    first = history_start(as_of)
    days = pd.date_range(first, as_of - timedelta(days=1), freq="D")
    n_days = len(days)
    month_index = np.array([(d.year - first.year) * 12 + d.month - first.month for d in days])
    day_month_frac = month_index + np.array([(d.day - 1) / d.days_in_month for d in days])
    weekend = np.array([d.weekday() >= 5 for d in days])

    # Size the first month so that the last full month lands near the target.
    scale = LAST_FULL_MONTH_TARGET / (1 + MONTHLY_GROWTH) ** 12 / 30.4

    res_rows: list[dict[str, Any]] = []
    for team, share in TEAM_SHARE.items():
        mix = TEAM_MIX[team]
        services = list(mix)
        n = RESOURCES_PER_TEAM if team != RETIRED_TEAM else 20
        weights = rng.lognormal(0.0, 0.9, n)
        weights = weights / weights.sum() * share * scale
        svc_pick = rng.choice(len(services), n, p=np.array(list(mix.values())) / sum(mix.values()))
        acc_ids = [a for a, _ in TEAM_ACCOUNTS[team]]
        acc_p = np.array([p for _, p in TEAM_ACCOUNTS[team]])
        acc_pick = rng.choice(len(acc_ids), n, p=acc_p / acc_p.sum())
        for i in range(n):
            service = services[svc_pick[i]]
            account = acc_ids[acc_pick[i]]
            name, owner_team, env = ACCOUNTS[account]
            # Tagging campaign: about 40% of the shared-account resources start untagged and get tagged over
            # the year; the retired team's resources are never retagged.
            if owner_team is None and team != RETIRED_TEAM:
                tag_day = int(rng.integers(0, int(n_days * 0.9))) if rng.random() < 0.78 else n_days + 1
                if rng.random() < 0.08:
                    tag_day = 0
            else:
                tag_day = 0 if rng.random() < 0.55 else int(rng.integers(0, n_days))
            before, after, value = _tags(team, env, service, rng)
            if team == RETIRED_TEAM:
                before = after = json.dumps({"team": RETIRED_TEAM, "environment": "dev"})
                value = RETIRED_TEAM
            prefix = {"Amazon Elastic Compute Cloud": "i-", "Amazon Relational Database Service": "db-",
                      "Amazon Simple Storage Service": "s3-"}.get(service, "")
            rid = f"arn:aws:{service.split()[-1].lower()}:us-east-1:{account}:{prefix}{team}-{i:03d}"
            res_rows.append({
                "team": team, "service": service, "account": account, "env": env, "weight": weights[i],
                "tag_day": tag_day, "tags_before": before, "tags_after": after, "tag_value": value, "resource_id": rid,
                "region": "us-east-1" if rng.random() < 0.8 else "eu-west-1",
                "weekend_idle": env != "prod" and rng.random() < 0.6,
            })
    res = pd.DataFrame(res_rows)
    n_res = len(res)

    growth = np.array([TEAM_GROWTH[t] for t in res["team"]])
    base = res["weight"].to_numpy()[:, None] * (1 + growth[:, None]) ** day_month_frac[None, :]
    season = np.where(weekend[None, :], np.where(res["weekend_idle"].to_numpy()[:, None], 0.35, 0.92), 1.0)
    noise = rng.lognormal(0.0, 0.06, (n_res, n_days))
    list_cost = base * season * noise
    # The retired team's workloads wind down to nothing by month 8.
    retired = (res["team"] == RETIRED_TEAM).to_numpy()
    list_cost[retired] *= np.clip(1 - day_month_frac / 8.0, 0, 1)[None, :]

    anomalies = _anomalies(as_of)
    extra = np.zeros_like(list_cost)
    for a in anomalies:
        mask = ((res["account"] == a.account_id) & (res["service"] == a.service)).to_numpy()
        if not mask.any():
            raise AssertionError(f"anomaly {a.key}: no {a.service} resource in account {a.account_id}")
        target = int(np.flatnonzero(mask)[0])
        lo, hi = (a.start - first).days, (a.end - first).days
        extra[target, lo:hi] += a.extra_per_day
    list_cost = list_cost + extra

    frame = pd.DataFrame({
        "r": np.repeat(np.arange(n_res), n_days),
        "d": np.tile(np.arange(n_days), n_res),
        "ListCost": list_cost.ravel().round(6),
    })
    frame = frame[frame["ListCost"] > 0.0005].reset_index(drop=True)
    r = frame["r"].to_numpy()
    d = frame["d"].to_numpy()
    family = np.array([SERVICES[s][1] or "" for s in res["service"]])[r]

    commitments, covered_id, effective = _commit(frame, family, first, as_of, n_days, rng)
    tagged = d >= res["tag_day"].to_numpy()[r]
    tags = np.where(tagged, res["tags_after"].to_numpy()[r], res["tags_before"].to_numpy()[r])

    out = pd.DataFrame({
        "ChargePeriodStart": days[d],
        "ChargePeriodEnd": days[d] + pd.Timedelta(days=1),
        "BillingAccountId": BILLING_ACCOUNT,
        "BillingAccountName": COMPANY,
        "BillingCurrency": CURRENCY,
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "PricingCategory": np.where(covered_id != "", "Committed", "Standard"),
        "ProviderName": "AWS",
        "PublisherName": "Amazon Web Services",
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "ServiceName": res["service"].to_numpy()[r],
        "ServiceCategory": np.array([SERVICES[s][0] for s in res["service"]])[r],
        "SubAccountId": res["account"].to_numpy()[r],
        "SubAccountName": np.array([ACCOUNTS[a][0] for a in res["account"]])[r],
        "RegionId": res["region"].to_numpy()[r],
        "ResourceId": res["resource_id"].to_numpy()[r],
        "ResourceType": np.array([s.split()[-1] for s in res["service"]])[r],
        "ListCost": frame["ListCost"].to_numpy(),
        "EffectiveCost": effective.round(6),
        "BilledCost": np.where(covered_id != "", 0.0, frame["ListCost"].to_numpy()).round(6),
        "CommitmentDiscountId": np.where(covered_id != "", covered_id, None),
        "CommitmentDiscountStatus": np.where(covered_id != "", "Used", None),
        "Tags": tags,
        "x_UsageType": np.where(res["service"].to_numpy()[r] == "Amazon Virtual Private Cloud",
                                "NatGateway-Bytes", None),
    })
    out["CommitmentDiscountType"] = out["CommitmentDiscountId"].map(
        {c.commitment_id: c.type for c in commitments})
    from storage.sources.demo_optimization import optimization_rows

    extra_rows = [_commitment_rows(commitments, frame, covered_id, effective, days), _monthly_rows(out, days),
                  optimization_rows(as_of, {a: v[0] for a, v in ACCOUNTS.items()}).assign(
                      BillingAccountId=BILLING_ACCOUNT, BillingAccountName=COMPANY, BillingCurrency=CURRENCY)]
    cluster = _cluster_rows(days, np.random.default_rng(seed + 1))
    out = pd.concat([out, *extra_rows, cluster], ignore_index=True)

    truth = _truth(out, res, frame, tagged, r, d, days, as_of, first, anomalies, commitments, len(cluster))
    return out, truth


def _cluster_rows(days: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    """The cluster's nodes (one on-demand EC2 row per node and day) and its pods' split cost allocation rows
    (a vCPU and a memory row per namespace, node and day, no cost of their own): each namespace's split cost
    is its share of the node, the unused capacity is split over the namespaces in proportion, as AWS does,
    and the CPU / memory parts follow AWS's 9:1 weights of a vCPU and a GiB."""
    import pandas as pd

    daily = round(NODE_HOURLY * 24, 6)
    cpu_part = 9 * NODE_VCPU / (9 * NODE_VCPU + NODE_GIB)
    node_tags = json.dumps({"environment": "prod", "eks:cluster-name": CLUSTER}, sort_keys=True)
    rows: list[dict[str, Any]] = []
    for day in days:
        for n in range(CLUSTER_NODES):
            node = f"i-0eks{CLUSTER_NODES - n:02d}{n:02d}harbor"
            rows.append({"ChargePeriodStart": day, "ResourceId": node, "ServiceName": "Amazon Elastic Compute Cloud",
                         "ServiceCategory": "Compute", "x_UsageType": f"USE1-BoxUsage:{NODE_TYPE}",
                         "x_Operation": "RunInstances", "PricingCategory": "Standard", "Tags": node_tags,
                         "ListCost": daily, "BilledCost": daily, "EffectiveCost": daily})
            shares = {ns: share * float(rng.lognormal(0.0, 0.12)) for ns, (_labels, share) in NAMESPACES.items()}
            used = min(sum(shares.values()), 0.95)
            scale = used / sum(shares.values())
            for ns, share in shares.items():
                share *= scale
                split, unused = daily * share, daily * (1 - used) * share / used
                tags = json.dumps({"aws:eks:cluster-name": CLUSTER, "aws:eks:namespace": ns, "aws:eks:node": node,
                                   **NAMESPACES[ns][0]}, sort_keys=True)
                arn = f"arn:aws:eks:us-east-1:{CLUSTER_ACCOUNT}:pod/{CLUSTER}/{ns}/{ns}-{n}/pod-{n}-{ns}"
                for kind, part, capacity in (("vCPU", cpu_part, NODE_VCPU), ("GB", 1 - cpu_part, NODE_GIB)):
                    rows.append({"ChargePeriodStart": day, "ResourceId": arn,
                                 "ServiceName": "Amazon Elastic Kubernetes Service", "ServiceCategory": "Compute",
                                 "x_UsageType": f"USE1-EKS-EC2-{kind}-Hours", "x_Operation": "EKSPod-EC2",
                                 "PricingCategory": "Standard", "Tags": tags, "ListCost": 0.0, "BilledCost": 0.0,
                                 "EffectiveCost": 0.0, "x_SplitParentResourceId": node,
                                 "x_SplitCost": round(split * part, 6), "x_SplitUnusedCost": round(unused * part, 6),
                                 "x_SplitUsage": round(capacity * 24 * share, 4), "x_SplitUsageRatio": round(share, 6),
                                 "x_ContainerCluster": CLUSTER, "x_ContainerNamespace": ns})
    out = pd.DataFrame(rows)
    out["ChargePeriodEnd"] = out["ChargePeriodStart"] + pd.Timedelta(days=1)
    out["ChargeCategory"] = "Usage"
    out["ChargeFrequency"] = "Usage-Based"
    out["SubAccountId"] = CLUSTER_ACCOUNT
    out["SubAccountName"] = ACCOUNTS[CLUSTER_ACCOUNT][0]
    out["RegionId"] = "us-east-1"
    out["BillingAccountId"] = BILLING_ACCOUNT
    out["BillingAccountName"] = COMPANY
    out["BillingCurrency"] = CURRENCY
    out["ProviderName"] = "AWS"
    out["PublisherName"] = "Amazon Web Services"
    out["InvoiceIssuerName"] = "Amazon Web Services, Inc."
    return out


def cluster_team(namespace: str) -> str | None:
    """The team the demo's truth gives a namespace's pods: their allowed team label, else the config's
    namespace mapping."""
    label = NAMESPACES[namespace][0].get("team")
    return label if label in TEAMS else CLUSTER_TEAMS.get(namespace)


def _commit(frame: pd.DataFrame, family: np.ndarray, first: date, as_of: date, n_days: int,
            rng: np.random.Generator) -> tuple[list[Commitment], np.ndarray, np.ndarray]:
    """Size the commitments on the eligible usage and mark covered rows greedily per day."""
    import numpy as np

    lst = frame["ListCost"].to_numpy()
    d = frame["d"].to_numpy()
    sp_daily = np.bincount(d, weights=np.where(family == "sp", lst, 0.0), minlength=n_days)
    ri_daily = np.bincount(d, weights=np.where(family == "ri", lst, 0.0), minlength=n_days)
    start_b = as_of - timedelta(days=365 - 45)  # a one-year plan that expires 45 days after as_of
    # Plan A covered ~62% at the start; plan B topped coverage up to ~60% of today's eligible usage.
    sp_a = float(np.median(sp_daily[:28])) * 0.62 * (1 - SP_DISCOUNT) / 0.935
    sp_b = float(np.median(sp_daily[-30:])) * 0.60 * (1 - SP_DISCOUNT) / 0.935 - sp_a
    ri = float(np.median(ri_daily[-30:])) * 0.60 * (1 - RI_DISCOUNT) / 0.935
    commitments = [
        Commitment("arn:aws:savingsplans::900000000001:savingsplan/sp-3yr-compute-a", "Savings Plan",
                   "Compute Savings Plan, 3 years, no upfront", "sp", first - timedelta(days=400),
                   first - timedelta(days=400) + timedelta(days=3 * 365), round(sp_a, 2), 3, "No Upfront",
                   "111100000001"),
        Commitment("arn:aws:savingsplans::900000000001:savingsplan/sp-1yr-compute-b", "Savings Plan",
                   "Compute Savings Plan, 1 year, no upfront", "sp", start_b, start_b + timedelta(days=365),
                   round(max(sp_b, 1.0), 2), 1, "No Upfront", "111100000001"),
        Commitment("arn:aws:rds:us-east-1:111100000009:ri:payments-db-3yr", "Reservation",
                   "RDS reserved DB instances, 3 years, partial upfront", "ri", first - timedelta(days=200),
                   first - timedelta(days=200) + timedelta(days=3 * 365), round(ri, 2), 3, "Partial Upfront",
                   "111100000009"),
    ]
    covered = np.full(len(frame), "", dtype=object)
    effective = lst.copy()
    order = rng.permutation(len(frame))  # a stable priority for which rows a commitment covers first
    frame_sorted = order[np.lexsort((np.arange(len(order)), d[order]))]
    for fam, disc in (("sp", SP_DISCOUNT), ("ri", RI_DISCOUNT)):
        active = [c for c in commitments if c.family == fam]
        sel = frame_sorted[family[frame_sorted] == fam]
        bounds = np.searchsorted(d[sel], np.arange(n_days + 1))
        for day in range(n_days):
            today = first + timedelta(days=day)
            rows = sel[bounds[day]:bounds[day + 1]]
            if not len(rows):
                continue
            util = 0.90 + 0.07 * rng.random()
            budget_used = 0.0
            cum = np.cumsum(lst[rows] * (1 - disc))
            for c in active:
                if not (c.start <= today < c.end):
                    continue
                budget_used += c.daily_amount * util
                take = (cum <= budget_used) & (covered[rows] == "")
                covered[rows[take]] = c.commitment_id
            hit = covered[rows] != ""
            effective[rows[hit]] = lst[rows[hit]] * (1 - disc)
    return commitments, covered, effective


def _commitment_rows(commitments: list[Commitment], frame: pd.DataFrame, covered: np.ndarray,
                     effective: np.ndarray, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Per commitment and day: the unused part (a Usage row, FOCUS's Unused status) and the fee."""
    import numpy as np
    import pandas as pd

    d = frame["d"].to_numpy()
    rows = []
    for c in commitments:
        used = np.bincount(d, weights=np.where(covered == c.commitment_id, effective, 0.0), minlength=len(days))
        for i, day in enumerate(days):
            if not (c.start <= day.date() < c.end):
                continue
            unused = max(c.daily_amount - used[i], 0.0)
            common = {"ChargePeriodStart": day, "ChargePeriodEnd": day + pd.Timedelta(days=1),
                      "CommitmentDiscountId": c.commitment_id, "CommitmentDiscountType": c.type,
                      "SubAccountId": c.account_id, "SubAccountName": ACCOUNTS[c.account_id][0],
                      "ResourceId": c.commitment_id, "ServiceName": "AWS Savings Plans" if c.family == "sp"
                      else "Amazon Relational Database Service"}
            if unused > 0.0005:
                rows.append({**common, "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
                             "PricingCategory": "Committed", "CommitmentDiscountStatus": "Unused",
                             "ListCost": 0.0, "BilledCost": 0.0, "EffectiveCost": round(unused, 6)})
            fee = c.daily_amount if c.payment_option == "No Upfront" else c.daily_amount * 0.5
            rows.append({**common, "ChargeCategory": "Purchase", "ChargeFrequency": "Recurring",
                         "PricingCategory": "Standard", "ListCost": 0.0, "BilledCost": round(fee, 6),
                         "EffectiveCost": 0.0})
    out = pd.DataFrame(rows)
    out["BillingAccountId"] = BILLING_ACCOUNT
    out["BillingAccountName"] = COMPANY
    out["BillingCurrency"] = CURRENCY
    out["ProviderName"] = "AWS"
    out["ServiceCategory"] = "Compute"
    return out


def _monthly_rows(usage: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Support (a recurring charge, billed on the 1st for the month before) and one promotional credit."""
    import pandas as pd

    month = usage["ChargePeriodStart"].dt.to_period("M")
    by_month = usage.groupby(month)["ListCost"].sum()
    rows = []
    firsts = [d for d in days if d.day == 1]
    for i, day in enumerate(firsts):
        prev = (day - pd.Timedelta(days=1)).to_period("M")
        basis = by_month.get(prev, by_month.iloc[0])
        amount = round(float(basis) * 0.03, 2)
        rows.append({"ChargePeriodStart": day, "ChargePeriodEnd": day + pd.Timedelta(days=1),
                     "ChargeCategory": "Usage", "ChargeFrequency": "Recurring", "PricingCategory": "Standard",
                     "ServiceName": "AWS Support (Business)", "ServiceCategory": "Other",
                     "BilledCost": amount, "EffectiveCost": amount, "ListCost": amount})
        if i == 4:
            rows.append({"ChargePeriodStart": day, "ChargePeriodEnd": day + pd.Timedelta(days=1),
                         "ChargeCategory": "Credit", "ChargeFrequency": "One-Time", "PricingCategory": None,
                         "ServiceName": "AWS Promotional Credit", "ServiceCategory": "Other",
                         "BilledCost": -2000.0, "EffectiveCost": -2000.0, "ListCost": 0.0})
    out = pd.DataFrame(rows)
    out["SubAccountId"] = "111100000001"
    out["SubAccountName"] = ACCOUNTS["111100000001"][0]
    out["BillingAccountId"] = BILLING_ACCOUNT
    out["BillingAccountName"] = COMPANY
    out["BillingCurrency"] = CURRENCY
    out["ProviderName"] = "AWS"
    return out


def allocated_by(team_value: str | None, account: str | None) -> str:
    """The allocation rule the demo's truth uses: an allowed team tag, else the account's owning team."""
    if team_value in TEAMS:
        return "tag"
    if account and ACCOUNTS.get(account, ("", None, ""))[1]:
        return "rule"
    return "none"


def _day_labels(stamps: pd.Series, fmt: str) -> np.ndarray:
    """``stamps`` formatted with ``fmt``, each distinct value formatted once (a few hundred days, not a
    format call per line item: 2.1 s of the demo's build)."""
    import pandas as pd

    codes, uniques = pd.factorize(stamps)
    return pd.Index(uniques).strftime(fmt).to_numpy()[codes]


def _truth(out: pd.DataFrame, res: pd.DataFrame, frame: pd.DataFrame, tagged: np.ndarray, r: np.ndarray,
           d: np.ndarray, days: pd.DatetimeIndex, as_of: date, first: date, anomalies: list[Anomaly],
           commitments: list[Commitment], n_cluster: int = 0) -> DemoTruth:
    import numpy as np
    import pandas as pd

    truth = DemoTruth(as_of=as_of, first_day=first, anomalies=anomalies, commitments=commitments)
    # Allocation per ISO week over Usage rows (resource rows, unused commitment, support).
    n = len(frame)
    tag_value = np.where(tagged, res["tag_value"].to_numpy()[r], None)
    state = np.array([allocated_by(v, a) for v, a in zip(tag_value, res["account"].to_numpy()[r], strict=True)])
    usage = out["ChargeCategory"].to_numpy() == "Usage"
    alloc = np.zeros(len(out), dtype=bool)
    alloc[:n] = state != "none"
    # Rows beyond the resource rows (unused commitment, support) carry no tags: the account rule decides.
    tail = out.iloc[n:]
    alloc[n:] = [allocated_by(None, a) != "none" for a in tail["SubAccountId"]]
    week = _day_labels(out["ChargePeriodStart"], "%G-W%V")
    eff = out["EffectiveCost"].to_numpy()
    allocated = np.where(alloc, eff, 0.0)
    if n_cluster:
        # The cluster's nodes name no team; their cost is allocated as far as their pods' namespaces have a
        # team: the split + unused cost of those pods, over the node's day (its whole cost: all the split).
        part = out.iloc[len(out) - n_cluster:]
        pods = part[part["x_SplitParentResourceId"].notna()]
        owned = pods["x_ContainerNamespace"].map(lambda ns: cluster_team(ns) is not None).to_numpy()
        weight = (pods["x_SplitCost"] + pods["x_SplitUnusedCost"]).to_numpy()
        key = pods["ChargePeriodStart"].astype(str) + "|" + pods["x_SplitParentResourceId"]
        share = (pd.Series(np.where(owned, weight, 0.0)).groupby(key.to_numpy()).sum()
                 / pd.Series(weight).groupby(key.to_numpy()).sum())
        nodes = part[part["x_SplitParentResourceId"].isna()]
        node_key = (nodes["ChargePeriodStart"].astype(str) + "|" + nodes["ResourceId"]).to_numpy()
        allocated[nodes.index.to_numpy()] = nodes["EffectiveCost"].to_numpy() * share.reindex(node_key).fillna(0.0).to_numpy()
    frame_w = pd.DataFrame({"week": week[usage], "eff": eff[usage], "alloc": allocated[usage]})
    g = frame_w.groupby("week")[["eff", "alloc"]].sum()
    truth.allocation_by_week = {w: float(a / e * 100) for w, (e, a) in g.iterrows() if e}
    truth.usage_by_week = {w: (float(e), float(a)) for w, (e, a) in g.iterrows()}
    month = _day_labels(out["ChargePeriodStart"], "%Y-%m")
    truth.monthly_totals = {m: float(v) for m, v in out.groupby(month)["EffectiveCost"].sum().items()}
    # Commitment figures over the last 30 days.
    last = out["ChargePeriodStart"] >= pd.Timestamp(as_of - timedelta(days=30))
    elig_services = {s for s, (_c, fam) in SERVICES.items() if fam}
    elig = last & usage & out["ServiceName"].isin(elig_services) & (out["CommitmentDiscountStatus"] != "Unused")
    covered_list = out.loc[elig & (out["PricingCategory"] == "Committed"), "ListCost"].sum()
    truth.coverage_pct = float(covered_list / out.loc[elig, "ListCost"].sum() * 100)
    used = out.loc[last & (out["CommitmentDiscountStatus"] == "Used"), "EffectiveCost"].sum()
    unused = out.loc[last & (out["CommitmentDiscountStatus"] == "Unused"), "EffectiveCost"].sum()
    truth.utilization_pct = float(used / (used + unused) * 100)
    truth.metrics, truth.budgets = _business(out, res, r, n, as_of, first)
    return truth


def _business(out: pd.DataFrame, res: pd.DataFrame, r: np.ndarray, n: int, as_of: date,
              first: date) -> tuple[dict, dict]:
    """Monthly business metrics (customers grow steadily; inferences grow slower than ML spend, so the
    cost per inference rises) and monthly budgets per team. A budget is a plan set in advance: each team's
    first-month spend outside the shared account, grown at the team's planned rate, scaled up by the
    shared pool's share of the bill (showback adds it to team totals) and given 5% headroom."""
    import numpy as np

    head = out.iloc[:n]
    first_month = (head["ChargePeriodStart"] < pd_month_end(first)).to_numpy()
    teams = res["team"].to_numpy()[r]
    outside = ~np.isin(head["SubAccountId"].to_numpy(), SHARED_ACCOUNTS)
    eff = head["EffectiveCost"].to_numpy()
    direct0 = {t: float(eff[first_month & outside & (teams == t)].sum()) for t in TEAMS}
    total0 = float(out.loc[out["ChargePeriodStart"] < pd_month_end(first), "EffectiveCost"].sum())
    uplift = total0 / max(sum(direct0.values()), 1.0)
    metrics: dict[str, dict[str, float]] = {}
    budgets: dict[str, dict[str, float]] = {}
    m = 0
    month = first
    while month <= as_of:
        key = f"{month.year}-{month.month:02d}"
        metrics[key] = {
            "active_customers": float(round(1200 * 1.035 ** m)),
            "api_requests": float(round(410e6 * 1.04 ** m, -5)),
            "inferences": float(round(2.1e6 * 1.06 ** m, -3)),
        }
        budgets[key] = {t: float(round(direct0[t] * uplift * (1 + TEAM_GROWTH[t]) ** m * 1.05 / 500) * 500)
                        for t in TEAMS}
        m += 1
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return metrics, budgets


def pd_month_end(first: date) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp(date(first.year + (first.month == 12), first.month % 12 + 1, 1))
