"""`finops-tui sync aws`: Cost Explorer, Cost Anomaly Detection, Savings Plans and RIs, Organizations and
Budgets into the cost store, cached, incremental and metered.

Daily cost by LINKED_ACCOUNT x SERVICE lands as FOCUS line items through ``storage.loader.Staging`` (the
rituals read them like imported rows); the other data sets go into the ``aws_*`` tables of
``storage.sources.aws_tables`` and the commitment inventory into ``commitment_inventory``. Each data set
is fetched, then swapped in on its own: one that fails is reported and the others still land.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from storage.costs import one_row
from storage.sources.aws_client import (
    AwsClients,
    AwsSyncError,
    CredentialsError,
    MaxRequestsReached,
    RequestLedger,
    call,
    pages,
)
from storage.sources.aws_insights import (  # noqa: F401 - send_anomaly_feedback is public here too
    fetch_anomalies,
    fetch_budgets,
    fetch_forecast,
    send_anomaly_feedback,
)
from storage.sources.aws_tables import (
    create_tables,
    days_between,
    fetch_start,
    record_days,
    record_requests,
    swap,
)

if TYPE_CHECKING:
    from storage.costs import CostStore
    from storage.home import Home

DATASETS = ("accounts", "costs", "tags", "forecast", "anomalies", "commitments", "recommendations", "budgets")
# Synced only when named (``--only optimization``): both services need an enrolment first, and a sync of an
# account without it would otherwise fail every default run.
OPTIONAL_DATASETS = ("optimization",)
SOURCE = "aws-cost-explorer"
TAG_KEYS_TTL_DAYS = 7


@dataclass
class SyncOptions:
    profile: str | None = None
    months: int = 13
    since: date | None = None
    max_requests: int | None = None
    endpoint_url: str | None = None
    only: tuple[str, ...] = DATASETS


@dataclass
class DatasetResult:
    """What one data set did. ``rows`` and ``days`` are what landed in the store, also when it then failed
    (``partial``: some of it landed; ``landed_keys`` / ``missing_keys`` say which tag keys)."""

    name: str
    status: str  # ok | partial | failed | skipped
    rows: int = 0
    requests: int = 0
    reason: str | None = None
    note: str | None = None
    days: int = 0
    landed_keys: list[str] | None = None
    missing_keys: list[str] | None = None


@dataclass
class SyncResult:
    datasets: list[DatasetResult]
    ledger: RequestLedger
    requests_total: int = 0
    cost_total: float = 0.0
    synced_at: str | None = None
    currency: str = "USD"

    @property
    def ok(self) -> bool:
        return all(d.status == "ok" for d in self.datasets)

    def as_dict(self) -> dict[str, Any]:
        return {"datasets": [d.__dict__ for d in self.datasets], "requests": self.ledger.requests,
                "answered": self.ledger.requests - len(self.ledger.unrecorded()),
                "attempts": self.ledger.attempts, "cost": self.ledger.cost, "currency": "USD",
                "requests_total": self.requests_total, "cost_total": round(self.cost_total, 2),
                "synced_at": self.synced_at}


def parse_only(text: str | None) -> tuple[str, ...]:
    if not text:
        return DATASETS
    names = [n.strip() for n in text.split(",") if n.strip()]
    known = DATASETS + OPTIONAL_DATASETS
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise ValueError(f"--only: unknown data set {', '.join(bad) or '(none)'}; use some of {', '.join(known)}")
    return tuple(n for n in known if n in names)


def _amount(metric: dict[str, Any] | None) -> float:
    return float((metric or {}).get("Amount") or 0.0)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, n: int) -> date:
    y, m = divmod(day.month - 1 + n, 12)
    return date(day.year + y, m + 1, 1)


def months_start(today: date, months: int) -> date:
    """The first day ``--months N`` syncs from: the first of the month N-1 months before the month of the
    last complete day (yesterday: today is still being billed). On the 1st the last complete day is in the
    previous month, so ``--months 1`` on December 1 syncs November, never an empty window."""
    last_complete = today - timedelta(days=1)
    return _add_months(last_complete, -(max(months, 1) - 1))


class _CostExtra(TypedDict):
    names: dict[str, str]  # account id -> name, as the response's DimensionValueAttributes give them
    days: list[tuple[date, bool]]  # every day asked for, with whether AWS marked it estimated


class AwsSync:
    """One sync run over a home; ``run()`` does every requested data set in order."""

    def __init__(self, home: Home, options: SyncOptions, *, clients: AwsClients | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        self.home = home
        self.store: CostStore = home.costs
        self.options = options
        self.ledger = clients.ledger if clients else RequestLedger(max_requests=options.max_requests)
        if clients is not None and options.max_requests is not None:
            self.ledger.max_requests = options.max_requests
        self.ledger.now = home.clock.now  # every stamp of a sync is on the home's clock (FINOPS_TUI_TODAY)
        aws = home.config.aws
        self.clients = clients or AwsClients(profile=options.profile, endpoint_url=options.endpoint_url,
                                             ledger=self.ledger, connect_timeout=aws.connect_timeout_s,
                                             read_timeout=aws.read_timeout_s)
        self.deadline_s = aws.dataset_deadline_s
        # Each request is written to aws_requests as it returns: a sync that is stopped still accounts for it.
        self.ledger.sink = lambda c: record_requests(self.store, [c])
        self.landed = DatasetResult("", "ok")  # what the running data set has stored so far
        self.progress = progress or (lambda _msg: None)
        self.today = home.clock.today()
        self.end = self.today  # exclusive: today is still being billed
        self.start = options.since or months_start(self.today, options.months)
        self.names: dict[str, str] = {}
        self.currency = "USD"

    # -- orchestration --------------------------------------------------------------------------------------
    def run(self) -> SyncResult:
        if self.start >= self.end:
            raise ValueError(f"--since {self.start} must be before today ({self.today})")
        results: list[DatasetResult] = []
        fatal: AwsSyncError | None = None
        for name in self.options.only:
            if fatal is not None:
                results.append(DatasetResult(name, "skipped", reason=str(fatal)))
                continue
            self.progress(f"syncing {name}")
            before = self.ledger.requests
            res = self.landed = DatasetResult(name, "ok")
            self.ledger.deadline = time.monotonic() + self.deadline_s
            self.ledger.deadline_reason = (f"{name}: no complete answer within the {self.deadline_s:g} s deadline of "
                                           "one data set (aws.dataset_deadline_s in the config)")
            try:
                rows, res.note = getattr(self, f"sync_{name}")()
                res.rows = max(rows, res.rows)
            except AwsSyncError as exc:
                res.status, res.reason = "failed", str(exc)
                if exc.fatal:
                    fatal = exc
            except Exception as exc:  # noqa: BLE001 - a data set that cannot land is reported, not fatal
                if type(exc).__name__ in ("LoadError", "CostStoreError"):
                    res.status, res.reason = "failed", str(exc)
                else:
                    raise
            finally:
                self.ledger.deadline = None
            if res.status == "failed" and (res.rows or res.days or res.landed_keys):
                res.status = "partial"
            res.requests = self.ledger.requests - before
            results.append(res)
            self.progress(f"{name}: {res.status} ({res.rows} rows, {res.requests} requests)")
        return self._finish(results)

    def _finish(self, results: list[DatasetResult]) -> SyncResult:
        now = self.home.clock.now().astimezone(UTC).replace(microsecond=0)
        out = SyncResult(results, self.ledger)
        # Answered requests are already in aws_requests (the sink); one that never returned is counted in
        # ``requests`` but not recorded as billed: AWS sent no answer for it.
        total, cost = record_requests(self.store, [])
        with self.store.writer() as con:
            create_tables(con)
            con.execute("BEGIN TRANSACTION")
            if any(r.status == "ok" for r in results):
                out.synced_at = now.isoformat().replace("+00:00", "Z")
                con.execute("INSERT OR REPLACE INTO meta VALUES ('aws_synced_at', ?)", [out.synced_at])
                for r in results:
                    if r.status == "ok":
                        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"aws_synced_at:{r.name}",
                                                                                  out.synced_at])
            else:
                row = con.execute("SELECT value FROM meta WHERE key = 'aws_synced_at'").fetchone()
                out.synced_at = row[0] if row else None
            con.execute("COMMIT")
        out.requests_total, out.cost_total = int(total), float(cost)
        return out

    # -- helpers --------------------------------------------------------------------------------------------
    def account_id(self) -> str:
        """The caller's (payer) account: BillingAccountId of the line items and the Budgets account."""
        key = f"{self.options.profile or ''}|{self.options.endpoint_url or ''}"
        if self.store.meta("aws_account_key") == key and self.store.meta("aws_account_id"):
            return str(self.store.meta("aws_account_id"))
        ident = call(self.clients, "sts", "GetCallerIdentity")
        self.store.set_meta({"aws_account_id": ident["Account"], "aws_account_key": key})
        return str(ident["Account"])

    def _cost_pages(self, start: date, group_by: list[dict[str, str]]) -> tuple[list[dict[str, Any]], _CostExtra]:
        """Every group of a daily GetCostAndUsage (unblended and amortised), with per-day estimated flags."""
        days: dict[date, bool] = {}
        groups: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        for page in pages(self.clients, "ce", "GetCostAndUsage", "NextPageToken",
                          TimePeriod={"Start": start.isoformat(), "End": self.end.isoformat()},
                          Granularity="DAILY", Metrics=["UnblendedCost", "AmortizedCost"], GroupBy=group_by):
            for attr in page.get("DimensionValueAttributes", []):
                if attr.get("Attributes", {}).get("description"):
                    names[attr["Value"]] = attr["Attributes"]["description"]
            for by_time in page.get("ResultsByTime", []):
                day = date.fromisoformat(by_time["TimePeriod"]["Start"])
                est = bool(by_time.get("Estimated"))
                days[day] = days.get(day, False) or est
                for g in by_time.get("Groups", []):
                    m = g.get("Metrics", {})
                    unit = (m.get("UnblendedCost") or m.get("AmortizedCost") or {}).get("Unit")
                    if unit:
                        self.currency = unit
                    groups.append({"day": day, "keys": g.get("Keys", []), "estimated": est,
                                   "unblended": _amount(m.get("UnblendedCost")),
                                   "amortized": _amount(m.get("AmortizedCost"))})
        flags = [(d, days.get(d, False)) for d in days_between(start, self.end)]
        return groups, {"names": names, "days": flags}

    # -- data sets ------------------------------------------------------------------------------------------
    def sync_accounts(self) -> tuple[int, str | None]:
        rows: list[dict[str, Any]] = []
        try:
            for page in pages(self.clients, "organizations", "ListAccounts", "NextToken"):
                for a in page.get("Accounts", []):
                    rows.append({"account_id": a["Id"], "name": a.get("Name"), "email": a.get("Email"),
                                 "status": a.get("Status"), "source": "organizations"})
        except CredentialsError:
            raise
        except AwsSyncError as exc:
            if "organizations:ListAccounts was refused" in str(exc) or "not part of an AWS Organization" in str(exc):
                return 0, "not the management account: accounts are named from Cost Explorer, or by id"
            raise
        n = swap(self.store, "aws_accounts", rows)
        self._fill_team_account_names({r["account_id"]: r["name"] for r in rows if r["name"]})
        return n, None

    def _fill_team_account_names(self, names: dict[str, str]) -> None:
        if not names:
            return
        from sqlmodel import col, select

        from storage.records import TeamAccount

        with self.home.records.write() as s:
            for ta in s.exec(select(TeamAccount).where(col(TeamAccount.account_id).in_(list(names)))).all():
                if ta.account_name != names[ta.account_id]:
                    ta.account_name = names[ta.account_id]
                    s.add(ta)

    def _stored_names(self) -> dict[str, str]:
        with self.store.reader() as con:
            if con is None:
                return {}
            create = one_row(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'aws_accounts'")[0]
            return dict(con.execute("SELECT account_id, name FROM aws_accounts WHERE name IS NOT NULL").fetchall()
                        ) if create else {}

    def sync_costs(self) -> tuple[int, str | None]:
        import pandas as pd

        from storage.loader import Staging

        first = fetch_start(self.store, "costs", self.start, self.end)
        if first is None:
            return 0, "up to date: every day is stored and settled"
        payer = self.account_id()
        groups, extra = self._cost_pages(first, [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                                                 {"Type": "DIMENSION", "Key": "SERVICE"}])
        names = {**extra["names"], **self._stored_names()}
        rows = []
        for g in groups:
            account, service = (g["keys"] + ["", ""])[:2]
            rows.append({
                "SubAccountId": account, "SubAccountName": names.get(account, account), "ServiceName": service,
                "BilledCost": g["unblended"], "EffectiveCost": g["amortized"], "day": g["day"],
                "x_Estimated": g["estimated"]})
        frame = pd.DataFrame(rows)
        if rows:
            day = pd.to_datetime(frame.pop("day"))
            month = day.dt.to_period("M").dt.start_time
            frame = frame.assign(
                ProviderName="AWS", PublisherName="AWS", InvoiceIssuerName="AWS", ChargeCategory="Usage",
                BillingAccountId=payer, BillingCurrency=self.currency, ChargePeriodStart=day,
                ChargePeriodEnd=day + pd.Timedelta(days=1), BillingPeriodStart=month,
                BillingPeriodEnd=month + pd.DateOffset(months=1), x_Source=SOURCE)
        kept = self._kept_rows(payer, first)
        with Staging(self.store, default_currency=self.currency, default_billing_account=payer) as staging:
            if len(kept):
                staging.append_frame(kept, "stored")
            if rows:
                staging.append_frame(frame, "GetCostAndUsage")
            if not rows and not len(kept):
                n = 0
            else:
                n = staging.commit(source=f"sync aws {first}..{self.end}", imported_at=self.home.clock.now()).rows - len(kept)
        with self.store.writer() as con:
            create_tables(con)
            record_days(con, "costs", extra["days"], synced_at=self.home.clock.now())
        self.landed.rows, self.landed.days = n, len(extra["days"])
        return n, f"fetched {first} to {self.end - timedelta(1)}"

    def _kept_rows(self, payer: str, first: date) -> Any:
        """Stored synced rows of the months being replaced that are not fetched again."""
        import pandas as pd

        from storage.schema import FOCUS_COLUMNS

        cols = [c for c in FOCUS_COLUMNS if c != "x_Extras"]
        with self.store.reader() as con:
            if con is None:
                return pd.DataFrame()
            sel = ", ".join(f'"{c}"' for c in cols)
            return con.execute(
                f"SELECT {sel}, CAST(json_extract(x_Extras, '$.x_Estimated') AS BOOLEAN) AS x_Estimated, "
                "json_extract_string(x_Extras, '$.x_Source') AS x_Source FROM line_items "
                "WHERE BillingAccountId = ? AND ProviderName = 'AWS' AND BillingPeriodStart >= ? AND charge_date < ?",
                [payer, _month_start(first), first]).df()

    def _tag_keys(self) -> tuple[dict[str, list[str]], str | None]:
        """Each taxonomy key -> the AWS tag key spellings that fold onto it (GetTags, cached a week)."""
        tax = self.store.taxonomy
        cached = json.loads(self.store.meta("aws_tag_keys") or "{}")
        raw: list[str] | None = None
        note = None
        if cached and date.fromisoformat(cached["on"]) > self.today - timedelta(days=TAG_KEYS_TTL_DAYS):
            raw = cached["keys"]
        else:
            try:
                raw = []
                for page in pages(self.clients, "ce", "GetTags", "NextPageToken",
                                  TimePeriod={"Start": self.start.isoformat(), "End": self.end.isoformat()}):
                    raw.extend(page.get("Tags", []))
                self.store.set_meta({"aws_tag_keys": json.dumps({"on": self.today.isoformat(), "keys": raw})})
            except CredentialsError:
                raise
            except AwsSyncError as exc:
                if isinstance(exc, MaxRequestsReached):
                    raise
                raw, note = [], f"tag keys not listed ({exc}); grouped by the taxonomy's own spelling"
        out = {}
        for key in tax.keys:
            spellings = sorted({k for k in raw if tax.canonical_key(k) == key})
            out[key] = spellings or [key]
        return out, note

    def sync_tags(self) -> tuple[int, str | None]:
        spellings, note = self._tag_keys()
        total = 0
        landed = self.landed
        landed.landed_keys, landed.missing_keys = [], list(spellings)
        days: set[date] = set()
        for key, raws in spellings.items():
            first = fetch_start(self.store, f"tags:{key}", self.start, self.end)
            if first is None:
                landed.missing_keys.remove(key)
                continue
            merged: dict[tuple, dict[str, Any]] = {}
            flags: list[tuple[date, bool]] = []
            # Each spelling's request partitions the WHOLE spend of a day and account into its tagged values
            # plus its own untagged bucket, so untagged buckets must not be summed across spellings. Rule: the
            # tagged values of every spelling add up; the ONE untagged bucket is the base spelling's (the first
            # that reported the day and account) minus what the other spellings tagged, so a key's rows always
            # sum to the spend. It may be negative: credits are untagged spend, and a resource carrying two
            # spellings is counted under both values (then the untagged row exists even if the base spelling
            # returned no untagged group).
            base: dict[tuple, int] = {}
            tagged_elsewhere: dict[tuple, list[float]] = {}
            for i, raw in enumerate(raws):
                groups, extra = self._cost_pages(first, [{"Type": "TAG", "Key": raw},
                                                         {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}])
                flags = extra["days"]
                for g in groups:
                    tag, account = (g["keys"] + ["", ""])[:2]
                    value = tag.split("$", 1)[1] if "$" in tag else tag
                    cell = (g["day"], account)
                    is_base = base.setdefault(cell, i) == i
                    if not value and not is_base:
                        continue  # this spelling's untagged bucket: the base spelling's already covers it
                    if value and not is_base:
                        sums = tagged_elsewhere.setdefault(cell, [0.0, 0.0, False])
                        sums[0] += g["unblended"]
                        sums[1] += g["amortized"]
                        sums[2] = sums[2] or g["estimated"]
                    k = (g["day"], value or None, account)
                    row = merged.setdefault(k, {"day": g["day"], "tag_key": key, "tag_value": value or None,
                                                "account_id": account, "unblended_cost": 0.0,
                                                "amortized_cost": 0.0, "currency": self.currency,
                                                "estimated": g["estimated"]})
                    row["unblended_cost"] += g["unblended"]
                    row["amortized_cost"] += g["amortized"]
            for (day, account), (unblended, amortized, estimated) in tagged_elsewhere.items():
                row = merged.setdefault((day, None, account), {
                    "day": day, "tag_key": key, "tag_value": None, "account_id": account, "unblended_cost": 0.0,
                    "amortized_cost": 0.0, "currency": self.currency, "estimated": estimated})
                for col, amount in (("unblended_cost", unblended), ("amortized_cost", amortized)):
                    left = row[col] - amount
                    row[col] = left if abs(left) >= 1e-9 else 0.0
            total += swap(self.store, "aws_tag_costs", list(merged.values()),
                          where="tag_key = ? AND day >= ? AND day < ?", params=[key, first, self.end],
                          days=(f"tags:{key}", flags), synced_at=self.home.clock.now())
            # Each key lands on its own: a sync stopped at the next key still reports this one.
            days.update(d for d, _estimated in flags)
            landed.rows, landed.days = total, len(days)
            landed.landed_keys.append(key)
            landed.missing_keys.remove(key)
        return total, note

    def sync_forecast(self) -> tuple[int, str | None]:
        return swap(self.store, "aws_forecast", fetch_forecast(self.clients, self.today, self.currency)), None

    def sync_anomalies(self) -> tuple[int, str | None]:
        return swap(self.store, "aws_anomalies", fetch_anomalies(self.clients, self.today)), None

    def sync_commitments(self) -> tuple[int, str | None]:
        from storage.sources.aws_commitments import fetch_inventory, fetch_usage, swap_inventory

        first = fetch_start(self.store, "commitments", self.start, self.end)
        notes: list[str] = []
        n = 0
        if first is not None:
            rows, flags, notes = fetch_usage(self.clients, first, self.end)
            n += swap(self.store, "aws_commitment_usage", rows, where="day >= ? AND day < ?",
                      params=[first, self.end], days=("commitments", flags), synced_at=self.home.clock.now())
        inventory = fetch_inventory(self.clients, self.today)
        n += swap_inventory(self.store, inventory)
        return n, "; ".join(notes) or None

    def sync_recommendations(self) -> tuple[int, str | None]:
        from storage.sources.aws_commitments import fetch_recommendations

        return swap(self.store, "aws_recommendations", fetch_recommendations(self.clients)), None

    def sync_optimization(self) -> tuple[int, str | None]:
        from storage.sources.aws_optimization import sync_optimization

        return sync_optimization(self.clients, self.store, self.home.clock.now())

    def sync_budgets(self) -> tuple[int, str | None]:
        return swap(self.store, "aws_budgets", fetch_budgets(self.clients, self.account_id())), None


def sync_aws(home: Home, options: SyncOptions, *, clients: AwsClients | None = None,
             progress: Callable[[str], None] | None = None) -> SyncResult:
    """Sync the requested data sets into ``home``'s cost store (public entry point)."""
    return AwsSync(home, options, clients=clients, progress=progress).run()
