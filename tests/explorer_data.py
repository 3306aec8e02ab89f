"""A small cost store written by hand for the explorer's tests, and the explorer's figures computed from the
same rows in plain Python (the reference the named query must agree with)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pandas as pd

from storage.costs import CostStore
from storage.loader import Staging

# Account acc-b is owned by team b in the records: its untagged rows are b's by rule.
RULES = {"acc-b": "b"}
# The window of the tests: 10 days, and the 10 days before it.
START, END = date(2026, 10, 10), date(2026, 10, 20)
PREVIOUS = START - (END - START)

# (day, account, service, region, category, resource, tags, effective, billed, list)
ROWS: list[tuple[Any, ...]] = [
    ("2026-10-10", "acc-a", "EC2", "us-east-1", "Usage", "i-1", {"team": "a", "env": "prod"}, 100.0, 120.0, 150.0),
    ("2026-10-11", "acc-a", "EC2", "us-east-1", "Usage", "i-2", {"Team": "a", "env": "dev"}, 40.0, 40.0, 55.0),
    ("2026-10-12", "acc-a", "S3", "eu-west-1", "Usage", "bucket-1", {"team": " a "}, 12.5, 12.5, 12.5),
    ("2026-10-13", "acc-b", "EC2", "us-east-1", "Usage", "i-3", None, 70.0, 90.0, 95.0),
    ("2026-10-14", "acc-b", "RDS", "us-east-1", "Usage", "db-1", {"env": "prod"}, 33.25, 33.25, 40.0),
    ("2026-10-15", "acc-b", "S3", "eu-west-1", "Usage", "bucket-2", {"team": "c", "env": "prod"}, 8.0, 8.0, 8.0),
    ("2026-10-16", "acc-x", "EC2", "us-east-1", "Usage", "i-4", None, 25.0, 25.0, 30.0),
    ("2026-10-17", "acc-x", "Tax", None, "Tax", None, None, 19.0, 19.0, 19.0),
    ("2026-10-18", "acc-a", "EC2", "us-east-1", "Credit", None, {"team": "a"}, -10.0, -10.0, 0.0),
    ("2026-10-19", "acc-b", "RDS", "us-east-1", "Usage", "db-1", {"env": "prod"}, 11.0, 11.0, 13.0),
    # the previous period
    ("2026-10-01", "acc-a", "EC2", "us-east-1", "Usage", "i-1", {"team": "a", "env": "prod"}, 80.0, 80.0, 90.0),
    ("2026-10-05", "acc-b", "RDS", "us-east-1", "Usage", "db-1", {"env": "prod"}, 30.0, 30.0, 36.0),
    ("2026-10-09", "acc-x", "Tax", None, "Tax", None, None, 15.0, 15.0, 15.0),
    ("2026-09-30", "acc-b", "EC2", "us-east-1", "Usage", "i-3", None, 5.0, 5.0, 6.0),
    # outside both windows
    ("2026-09-29", "acc-a", "EC2", "us-east-1", "Usage", "i-1", {"team": "a"}, 999.0, 999.0, 999.0),
    ("2026-10-20", "acc-a", "EC2", "us-east-1", "Usage", "i-1", {"team": "a"}, 777.0, 777.0, 777.0),
]
COST_INDEX = {"effective": 7, "billed": 8, "list": 9}


def write_store(store: CostStore) -> None:
    frame = pd.DataFrame([(pd.Timestamp(r[0]), *r[1:6], json.dumps(r[6]) if r[6] else None, *r[7:]) for r in ROWS],
                         columns=["ChargePeriodStart", "SubAccountId", "ServiceName", "RegionId", "ChargeCategory",
                                  "ResourceId", "Tags", "EffectiveCost", "BilledCost", "ListCost"])
    frame["BillingAccountId"] = "payer"
    frame["BillingCurrency"] = "USD"
    with Staging(store) as st:
        st.append_frame(frame, "hand.csv")
        st.commit(source="hand.csv")


def _tags(row: tuple[Any, ...]) -> dict[str, str]:
    aliases = {"env": "environment"}
    out = {}
    for k, v in (row[6] or {}).items():
        key = k.strip().lower()
        if v.strip():
            out[aliases.get(key, key)] = v.strip()
    return out


def value(row: tuple[Any, ...], dimension: str) -> str | None:
    """A row's value for an explorer dimension, by the rules written out: team is the tag, else the rule."""
    if dimension == "team":
        return _tags(row).get("team") or RULES.get(row[1])
    if dimension.startswith("tag:"):
        return _tags(row).get(dimension[4:])
    index = {"account": 1, "service": 2, "region": 3, "charge_category": 4, "resource": 5}[dimension]
    return row[index]


def _keep(row: tuple[Any, ...], filters: dict[str, list[str]], excludes: dict[str, list[str]]) -> bool:
    def shown(dim: str) -> str:
        return value(row, dim) or "(none)"

    return (all(shown(d) in vals for d, vals in filters.items())
            and not any(shown(d) in vals for d, vals in excludes.items()))


def expected(group_by: list[str], filters: dict[str, list[str]] | None = None,
             excludes: dict[str, list[str]] | None = None, cost: str = "effective",
             start: date = START, end: date = END) -> dict[str, Any]:
    """Totals, previous total and per-group (current, previous) sums over ROWS."""
    previous = start - (end - start)
    now: dict[tuple[str | None, ...], float] = defaultdict(float)
    before: dict[tuple[str | None, ...], float] = defaultdict(float)
    for row in ROWS:
        day = date.fromisoformat(row[0])
        if not _keep(row, filters or {}, excludes or {}):
            continue
        key = tuple(value(row, d) for d in group_by)
        if start <= day < end:
            now[key] += row[COST_INDEX[cost]]
        elif previous <= day < start:
            before[key] += row[COST_INDEX[cost]]
    groups = {k: (round(now.get(k, 0.0), 2), round(before.get(k, 0.0), 2)) for k in {*now, *before}}
    return {"total": round(sum(now.values()), 2), "previous": round(sum(before.values()), 2), "groups": groups}


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]
