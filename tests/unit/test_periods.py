"""Billing periods as the store holds them, and removing one: every figure here is computed from the raw
FOCUS sample file with pandas, independently of the importer; a removal takes exactly its period of its
billing account out and leaves every other period's rows and totals as the file has them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from storage.config import load_config
from storage.cost_queries.periods import NothingToRemove, PeriodKey, billing_periods, remove_period
from storage.costs import CostStore
from storage.sources.files import import_files
from tests.stores import cost_fingerprint

KEY = ["billing_period", "billing_account_id", "provider"]


def raw_totals(path: Path) -> dict[tuple[str, str, str], tuple[int, float, float]]:
    """Rows, BilledCost and EffectiveCost per billing period (YYYY-MM) x billing account x provider."""
    raw = pd.read_csv(path, na_values=["NULL"], keep_default_na=False, dtype={"BillingAccountId": str})
    raw["billing_period"] = raw["BillingPeriodStart"].str[:7]
    out = raw.groupby(["billing_period", "BillingAccountId", "ProviderName"]).agg(
        rows=("BilledCost", "size"), billed=("BilledCost", "sum"), effective=("EffectiveCost", "sum"))
    return {k: (int(r.rows), float(r.billed), float(r.effective)) for k, r in out.iterrows()}


def stored_totals(store: CostStore) -> dict[tuple[str, str, str], tuple[int, float, float]]:
    return {tuple(p[k] for k in KEY): (p["rows"], p["billed_cost"], p["effective_cost"])
            for p in billing_periods(store)}


def close(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        x[0] == y[0] and x[1:] == pytest.approx(y[1:], abs=1e-9) for x, y in ((a[k], b[k]) for k in a))


@pytest.fixture
def sample(shared_data: Path) -> Path:
    return shared_data / "focus-sample-data" / "focus_sample.csv"


@pytest.fixture
def store(tmp_path: Path, sample: Path) -> CostStore:
    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    import_files(store, [sample])
    return store


def test_the_list_is_the_file_per_period_account_and_provider_with_its_import(store: CostStore,
                                                                              sample: Path) -> None:
    assert close(stored_totals(store), raw_totals(sample))
    assert {p["source"] for p in billing_periods(store)} == {str(sample)}
    assert all(p["imported_at"] is not None and p["currency"] == "USD" for p in billing_periods(store))


def test_a_removal_takes_its_period_out_and_leaves_every_other_as_the_file_has_it(store: CostStore,
                                                                                  sample: Path) -> None:
    raw = raw_totals(sample)
    oracle = [k for k in raw if k[2] == "Oracle"]
    assert len(oracle) == 2  # the same account in two periods: only one of them goes
    gone = min(oracle)
    removal = remove_period(store, PeriodKey(gone[0], gone[1]))
    assert removal.rows == raw[gone][0]
    assert (removal.as_json()["billed_cost"], removal.as_json()["effective_cost"]) == pytest.approx(raw[gone][1:])
    rest = {k: v for k, v in raw.items() if k != gone}
    assert close(stored_totals(store), rest)
    rows, billed, effective = store.totals()
    assert rows == sum(v[0] for v in rest.values())
    assert (billed, effective) == pytest.approx((sum(v[1] for v in rest.values()), sum(v[2] for v in rest.values())))


def test_nothing_matching_or_a_dry_run_changes_nothing(store: CostStore, sample: Path) -> None:
    before = cost_fingerprint(store.path)
    account = next(k[1] for k in raw_totals(sample) if k[2] == "AWS")
    with pytest.raises(NothingToRemove, match=f"billing account {account} has 2024-09"):
        remove_period(store, PeriodKey("2024-08", account))
    with pytest.raises(NothingToRemove, match="no billing account 'nobody'"):
        remove_period(store, PeriodKey("2024-09", "nobody"))
    with pytest.raises(ValueError, match="give YYYY-MM"):
        remove_period(store, PeriodKey("September", account))
    dry = remove_period(store, PeriodKey("2024-09-01", account), dry_run=True)
    assert dry.dry_run and dry.rows == raw_totals(sample)[("2024-09", account, "AWS")][0]
    assert cost_fingerprint(store.path) == before


def test_removing_a_synced_period_makes_the_next_sync_fetch_its_days_again(tmp_path: Path) -> None:
    from datetime import UTC, date, datetime, timedelta

    from storage.loader import Staging
    from storage.sources.aws_tables import SETTLE_DAYS, create_tables, fetch_start, record_days

    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    days = [date(2026, 9, d) for d in range(1, 31)] + [date(2026, 10, d) for d in range(1, 32)]
    with Staging(store, default_billing_account="payer") as staging:
        staging.append_frame(pd.DataFrame({"ChargePeriodStart": pd.to_datetime(days), "BilledCost": 1.0,
                                           "ProviderName": "AWS"}), "GetCostAndUsage")
        staging.commit(source="sync aws 2026-09-01..2026-11-01")
    with store.writer() as con:
        create_tables(con)
        record_days(con, "costs", [(d, False) for d in days], synced_at=datetime(2026, 11, 20, tzinfo=UTC))
    end = date(2026, 10, 15)
    settling = end - timedelta(days=SETTLE_DAYS)  # fetched again whatever is stored
    assert fetch_start(store, "costs", date(2026, 9, 1), end) == settling
    removal = remove_period(store, PeriodKey("2026-09", "payer"))
    assert removal.rows == 30 and removal.sync_days_forgotten == 30
    assert fetch_start(store, "costs", date(2026, 9, 1), end) == date(2026, 9, 1)
    assert fetch_start(store, "costs", date(2026, 10, 1), end) == settling  # October's days stay known
