"""The cost store: loading a hand-made FOCUS frame, the named queries against sums done by hand, tag-key
folding, and a failed validation that leaves everything unchanged."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

from storage.config import load_config
from storage.costs import CostStore, CostStoreError, connect
from storage.loader import LoadError, Staging


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ChargePeriodStart": pd.to_datetime(["2026-10-01", "2026-10-01", "2026-10-02", "2026-10-02",
                                                 "2026-11-01"]),
            "BillingAccountId": ["111", "111", "111", "111", "111"],
            "SubAccountId": ["a1", "a2", "a1", "a2", "a1"],
            "ServiceName": ["EC2", "S3", "EC2", "EC2", "EC2"],
            "ChargeCategory": ["Usage", "Usage", "Usage", "Tax", "Usage"],
            "BilledCost": [10.0, 2.0, 5.0, 1.0, 7.0],
            "EffectiveCost": [8.0, 2.0, 4.0, 1.0, 6.0],
            "Tags": ['{"Team": "pay", " env ": "prod"}', None, '{" team": "search"}', '{"TEAM": "pay"}', "{}"],
            "x_Custom": ["a", None, "c", None, None],
        }
    )


@pytest.fixture
def store(tmp_path) -> CostStore:
    s = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    with Staging(s) as st:
        st.append_frame(frame(), "hand.csv")
        st.commit(source="hand.csv")
    return s


def test_empty_store_answers_with_empty_frames(tmp_path) -> None:
    s = CostStore(tmp_path / "none.duckdb", load_config(None).taxonomy)
    assert s.totals() == (0, 0.0, 0.0)
    assert s.daily_cost(date(2026, 1, 1), date(2027, 1, 1)).empty
    assert s.info().rows == 0
    assert not (tmp_path / "none.duckdb").exists()


def test_totals_and_periods(store: CostStore) -> None:
    assert store.totals() == (5, 25.0, 21.0)
    periods = store.period_totals()
    assert list(periods["billing_period"].astype(str)) == ["2026-10-01", "2026-11-01"]
    assert list(periods["billed_cost"]) == [18.0, 7.0]
    assert list(periods["effective_cost"]) == [15.0, 6.0]


def test_daily_cost_by_service_respects_the_exclusive_end(store: CostStore) -> None:
    df = store.daily_cost(date(2026, 10, 1), date(2026, 11, 1), "service")
    got = {(str(r.day)[:10], r.service): r.cost for r in df.itertuples()}
    assert got == {("2026-10-01", "EC2"): 8.0, ("2026-10-01", "S3"): 2.0, ("2026-10-02", "EC2"): 5.0}
    usage = store.daily_cost(date(2026, 10, 2), date(2026, 10, 3), usage_only=True)
    assert list(usage["cost"]) == [4.0]


def test_cost_by_allocation_folds_key_case_and_space(store: CostStore) -> None:
    df = store.cost_by_allocation(date(2026, 10, 1), date(2026, 12, 1), usage_only=False)
    got = {(None if pd.isna(r.value) else r.value): r.cost for r in df.itertuples()}
    # "Team", " team" and "TEAM" are all the team key; "{}" and a missing Tags are unallocated.
    assert got == {"pay": 9.0, "search": 4.0, None: 8.0}
    env = store.cost_by_allocation(date(2026, 10, 1), date(2026, 12, 1), "env", usage_only=False)
    assert dict(zip(env["value"].fillna("-"), env["cost"], strict=True)) == {"prod": 8.0, "-": 13.0}


def test_a_key_outside_the_taxonomy_is_read_from_the_folded_map(tmp_path) -> None:
    store = CostStore(tmp_path / "c.duckdb", load_config(None).taxonomy)
    rows = frame().assign(Tags=['{"Business Unit": "ads"}', '{" business unit": "it\'s"}', None, None, None])
    with Staging(store) as st:
        st.append_frame(rows, "bu.csv")
        st.commit()
    df = store.cost_by_allocation(date(2026, 10, 1), date(2026, 12, 1), "BUSINESS UNIT", usage_only=False)
    assert dict(zip(df["value"].fillna("-"), df["cost"], strict=True)) == {"ads": 8.0, "it's": 2.0, "-": 11.0}


def test_extras_are_kept(store: CostStore) -> None:
    df = store.query("SELECT x_Extras FROM line_items WHERE x_Extras LIKE '%x_Custom%' ORDER BY 1")
    assert list(df["x_Extras"]) == ['{"x_Custom": "a"}', '{"x_Custom": "c"}']


def test_reloading_a_period_replaces_it(store: CostStore) -> None:
    with Staging(store) as st:
        st.append_frame(frame().iloc[:2], "again.csv")
        summary = st.commit(source="again.csv")
    assert summary.replaced == 4  # the October rows of account 111
    assert store.totals() == (3, 19.0, 16.0)


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"EffectiveCost": [float("inf"), 2.0, 4.0, 1.0, 6.0]}, "EffectiveCost"),
        ({"ChargePeriodStart": pd.to_datetime([None, "2026-10-01", "2026-10-02", "2026-10-02", "2026-11-01"])},
         "ChargePeriodStart"),
        ({"Tags": ["{not json", None, None, None, None]}, "Tags"),
        ({"BillingCurrency": ["USD", "EUR", "USD", "USD", "USD"]}, "BillingCurrency"),
    ],
)
def test_a_failed_validation_changes_nothing(store: CostStore, change: dict, column: str) -> None:
    before = (store.totals(), store.period_totals().to_dict())
    bad = frame().assign(**change)
    with pytest.raises(LoadError) as err, Staging(store) as st:
        st.append_frame(bad, "bad.csv")
        st.commit(source="bad.csv")
    problem = err.value.problems[0]
    assert problem.source == "bad.csv" and problem.column == column and problem.row in (1, 2)
    assert (store.totals(), store.period_totals().to_dict()) == before
    assert not list(store.path.parent.glob(".*staging*"))


def test_a_writer_waits_then_says_the_store_is_busy(store: CostStore) -> None:
    # DuckDB shares one instance per file inside a process, so the lock holder must be another process.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(30)", str(store.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CostStoreError, match="another finops-tui process"):
            connect(store.path, read_only=True, timeout_s=0.3)
    finally:
        holder.kill()
        holder.wait()
    connect(store.path, read_only=True, timeout_s=5).close()


def test_no_connection_prints_duckdbs_progress_bar(tmp_path) -> None:
    """DuckDB prints its progress bar to standard output once a query runs past two seconds, which would
    break a command's --json on a large store: every connection the store and the importer open has it off."""
    from storage.config import load_config
    from storage.costs import CostStore, connect
    from storage.loader import Staging

    def printing(con) -> bool:
        return bool(con.execute("SELECT current_setting('enable_progress_bar_print')").fetchone()[0])

    import duckdb

    assert printing(duckdb.connect(":memory:"))  # DuckDB's default, which the store must not keep
    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    with store.writer() as con:
        assert not printing(con)
    with store.reader() as con:
        assert con is not None and not printing(con)
    assert not printing(connect(store.path, read_only=True))
    with Staging(store) as staging:
        assert staging.con is not None and not printing(staging.con)
