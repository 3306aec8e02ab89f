"""How many API requests (and dollars) `sync aws` spends: a first 13-month sync of a 12-account
organisation with 5 required tag keys, then a daily re-sync, against a stubbed AWS (a botocore
``before-call`` responder that pages like Cost Explorer). Baseline from the same run: a sync without the
day cache, which would fetch the whole window every day.

    python bench/sync_requests.py [--page-groups 5000] [--services 30]

Cost Explorer does not document its page size; --page-groups is the assumption (groups per page).
Target: a daily re-sync under 20 requests and $0.20.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ACCOUNTS = [f"{100000000000 + i * 7919:012d}" for i in range(12)]
TAG_VALUES = ["checkout", "search", "data", "platform", "ml", "web"]


class FakeAws:
    """Answers every call the sync makes, with Cost Explorer-like paging of grouped daily results."""

    def __init__(self, page_groups: int, services: int, today: date) -> None:
        self.page_groups = page_groups
        self.services = [f"Service {i:02d}" for i in range(services)]
        self.today = today
        self._cache: dict[str, list] = {}

    def _groups(self, params: dict[str, Any]) -> list[tuple[str, list[str]]]:
        start = date.fromisoformat(params["TimePeriod"]["Start"])
        end = date.fromisoformat(params["TimePeriod"]["End"])
        by = params["GroupBy"]
        out = []
        for i in range((end - start).days):
            day = (start + timedelta(days=i)).isoformat()
            for acct in ACCOUNTS:
                if by[0]["Type"] == "TAG":
                    for v in [*TAG_VALUES, ""]:
                        out.append((day, [f"{by[0]['Key']}${v}", acct]))
                else:
                    for svc in self.services:
                        out.append((day, [acct, svc]))
        return out

    def cost_and_usage(self, params: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps([params["TimePeriod"], params["GroupBy"]], sort_keys=True)
        if key not in self._cache:  # the fake itself must not dominate the timing
            self._cache = {key: self._groups(params)}
        groups = self._cache[key]
        page = int(params.get("NextPageToken") or 0)
        chunk = groups[page * self.page_groups:(page + 1) * self.page_groups]
        by_day: dict[str, list] = {}
        for day, keys in chunk:
            by_day.setdefault(day, []).append({"Keys": keys, "Metrics": {
                "UnblendedCost": {"Amount": "1.25", "Unit": "USD"}, "AmortizedCost": {"Amount": "1.0", "Unit": "USD"}}})
        month = self.today.replace(day=1).isoformat()
        resp: dict[str, Any] = {"ResultsByTime": [
            {"TimePeriod": {"Start": d, "End": d}, "Total": {}, "Groups": g, "Estimated": d >= month}
            for d, g in by_day.items()]}
        if (page + 1) * self.page_groups < len(groups):
            resp["NextPageToken"] = str(page + 1)
        return resp

    def answer(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        op = model.name
        parsed: dict[str, Any]
        if op == "GetCostAndUsage":  # before-call sees the serialised request: the JSON body
            parsed = self.cost_and_usage(json.loads(params["body"]))
        elif op == "GetCallerIdentity":
            parsed = {"Account": "999999999999"}
        elif op == "ListAccounts":
            parsed = {"Accounts": [{"Id": a, "Name": f"acct-{i}"} for i, a in enumerate(ACCOUNTS)]}
        elif op == "GetTags":
            parsed = {"Tags": ["Team", "Environment", "Service", "CostCenter", "Owner"]}
        else:  # every other call answers with an empty, valid page
            parsed = {}
        return AWSResponse("https://stub", 200, {}, None), parsed


def run(home_dir: Path, today: date, fake: FakeAws, *, fresh: bool = False) -> tuple[Any, float]:
    import boto3

    from storage.clock import Clock
    from storage.config import Taxonomy
    from storage.costs import CostStore
    from storage.home import Home
    from storage.sources.aws import SyncOptions, sync_aws
    from storage.sources.aws_client import AwsClients

    home = Home(home_dir, clock_override=Clock(today))
    # Five required keys, as the benchmark's organisation uses them.
    taxonomy = Taxonomy(allocation_key="team", required_keys=("environment", "service", "cost-center", "owner"),
                        aliases={"costcenter": "cost-center"})
    home.__dict__["costs"] = CostStore(home.costs_path, taxonomy)
    if fresh and home.costs_path.exists():
        home.costs_path.unlink()
    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
    clients = AwsClients(session=session)
    for service in ("ce", "sts", "organizations", "budgets", "savingsplans", "ec2", "rds"):
        clients.client(service).meta.events.register("before-call.*.*", fake.answer)
    t0 = time.perf_counter()
    result = sync_aws(home, SyncOptions(months=13), clients=clients)
    home.close()
    return result, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--page-groups", type=int, default=5000, help="groups per Cost Explorer page (assumed)")
    ap.add_argument("--services", type=int, default=30, help="services with spend in each account")
    args = ap.parse_args()
    day1 = date(2026, 11, 27)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        rows = []
        for label, today, fresh in [("first sync (13 months)", day1, False),
                                    ("daily re-sync (next day)", day1 + timedelta(days=1), False),
                                    ("re-sync after month close (Dec 2)", date(2026, 12, 2), False),
                                    ("baseline: no day cache, next day", day1 + timedelta(days=1), True)]:
            fake = FakeAws(args.page_groups, args.services, today)
            result, secs = run(home, today, fake, fresh=fresh)
            assert result.ok, [(d.name, d.reason) for d in result.datasets if d.status != "ok"]
            ce = result.ledger.count("ce")
            rows.append((label, result.ledger.requests, ce, result.ledger.cost, secs))
    print(f"12 accounts x {args.services} services, 5 tag keys, {args.page_groups} groups per page (assumed)")
    print(f"{'sync':<36}{'requests':>9}{'of which CE':>13}{'cost':>9}{'seconds':>9}")
    for label, n, ce, cost, secs in rows:
        print(f"{label:<36}{n:>9}{ce:>13}{'$' + format(cost, '.2f'):>9}{secs:>9.1f}")
    daily = rows[1]
    verdict = "meets" if daily[1] < 20 and daily[3] < 0.20 else "MISSES"
    print(f"daily re-sync: {daily[1]} requests, ${daily[3]:.2f} -> {verdict} the target (< 20 requests, < $0.20); "
          f"baseline without the cache: {rows[3][1]} requests, ${rows[3][3]:.2f}")


if __name__ == "__main__":
    main()
