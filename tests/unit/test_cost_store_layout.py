"""The cost store's physical layout: line_items is a view over a table that stores only the columns some row
has, billing periods a file lacks are derived by the view, folded tag maps are kept once per Tags value,
and a store written in the earlier all-columns layout is upgraded in place by the next load."""

from __future__ import annotations

import math
from datetime import datetime
from types import SimpleNamespace

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage.config import load_config
from storage.costs import CostStore
from storage.loader import LoadError, Staging
from storage.schema import DATA_TABLE, FOCUS_COLUMNS, TAG_SETS, taxonomy_signature
from storage.tags import tag_column


def new_store(tmp_path) -> CostStore:
    return CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)


def stored(store: CostStore) -> list[str]:
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        return [r[0] for r in con.execute(f"DESCRIBE {DATA_TABLE}").fetchall()]
    finally:
        con.close()


def import_files(store: CostStore, paths: list) -> SimpleNamespace:
    """Load files through the loader itself (as the demo and the AWS sync do): the layout holds for every
    source, including rows without billing periods, which FOCUS files may no longer lack."""
    with Staging(store) as staging:
        for path in paths:
            frame = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path, dtype=str)
            for col in ("BilledCost", "EffectiveCost", "ListCost"):
                if col in frame and frame[col].dtype == object:
                    frame[col] = frame[col].astype(float)
            for col in ("ChargePeriodStart", "BillingPeriodStart"):
                if col in frame and frame[col].dtype == object:
                    frame[col] = pd.to_datetime(frame[col], utc=True).dt.tz_localize(None)
            staging.append_frame(frame, str(path))
        return SimpleNamespace(load=staging.commit())


def write_parquet(path, account: str, costs: list[float], days: list[str], tags: list[str | None]) -> None:
    pq.write_table(pa.table({
        "BillingAccountId": [account] * len(costs),
        "ChargePeriodStart": pa.array([datetime.fromisoformat(d) for d in days], pa.timestamp("us")),
        "BilledCost": costs,
        "Tags": tags,
    }), path)


def test_parquet_without_billing_periods_gets_them_from_the_charge_month_and_reimports_in_place(tmp_path) -> None:
    store = new_store(tmp_path)
    path = tmp_path / "a.parquet"
    write_parquet(path, "acct-1", [1.5, 2.25, 4.0], ["2026-09-30T23:00:00", "2026-10-01T00:00:00",
                                                       "2026-10-15T12:00:00"], ['{"Team": "pay"}', None, "{}"])
    first = import_files(store, [path])
    assert "BillingPeriodStart" not in stored(store) and "BillingPeriodEnd" not in stored(store)
    periods = store.query("SELECT CAST(BillingPeriodStart AS VARCHAR) AS s, CAST(BillingPeriodEnd AS VARCHAR) AS e, "
                          "sum(BilledCost) AS b FROM line_items GROUP BY ALL ORDER BY 1")
    assert periods.to_dict("records") == [
        {"s": "2026-09-01 00:00:00", "e": "2026-10-01 00:00:00", "b": 1.5},
        {"s": "2026-10-01 00:00:00", "e": "2026-11-01 00:00:00", "b": 6.25},
    ]
    assert [p["period"] for p in first.load.periods] == ["2026-09", "2026-10"]
    again = import_files(store, [path])
    assert again.load.replaced == 3 and store.totals() == (3, 7.75, 7.75)
    # A CSV of October for the same account, with its period given, replaces the derived-period rows.
    csv = tmp_path / "oct.csv"
    csv.write_text("BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost\n"
                   "acct-1,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,10\n")
    third = import_files(store, [csv])
    assert third.load.replaced == 2
    assert store.totals() == (2, 11.5, 11.5)


def test_columns_no_row_has_are_not_stored_and_read_as_null_until_a_load_brings_them(tmp_path) -> None:
    store = new_store(tmp_path)
    path = tmp_path / "a.parquet"
    write_parquet(path, "acct-1", [1.0, 2.0], ["2026-10-01T00:00:00", "2026-10-02T00:00:00"],
                  ['{"team": "pay"}', None])
    import_files(store, [path])
    columns = stored(store)
    assert "ListCost" not in columns and "RegionId" not in columns
    assert tag_column("team") in columns and tag_column("owner") not in columns
    view = store.query("SELECT * FROM line_items")
    assert set(FOCUS_COLUMNS) <= set(view.columns) and view["ListCost"].isna().all()
    csv = tmp_path / "b.csv"
    csv.write_text("BillingAccountId,ChargePeriodStart,BilledCost,ListCost,Tags\n"
                   'acct-2,2026-10-03T00:00:00Z,3,4.5,"{""Owner"": ""ana""}"\n')
    import_files(store, [csv])
    assert "ListCost" in stored(store) and tag_column("owner") in stored(store)
    got = store.query(f"SELECT BillingAccountId AS a, ListCost AS l, {tag_column('owner')} AS o, "
                      f"{tag_column('team')} AS t FROM line_items ORDER BY a, ChargePeriodStart")
    assert got["a"].tolist() == ["acct-1", "acct-1", "acct-2"]
    assert got["l"].isna().tolist() == [True, True, False] and got["l"].iloc[2] == 4.5
    assert got["o"].tolist()[2] == "ana" and got["t"].tolist()[0] == "pay"


def test_a_problem_found_in_the_written_rows_rolls_everything_back(tmp_path) -> None:
    store = new_store(tmp_path)
    bad = tmp_path / "bad.parquet"
    write_parquet(bad, "acct-1", [1.0, math.nan], ["2026-10-01T00:00:00", "2026-10-02T00:00:00"], [None, None])
    with pytest.raises(LoadError) as err:
        import_files(store, [bad])
    problem = err.value.problems[0]
    # EffectiveCost is filled from BilledCost here, so either names the NaN row.
    assert (problem.source, problem.row) == (str(bad), 2) and problem.column in ("BilledCost", "EffectiveCost")
    # A refused first load leaves an empty, valid store (never a half-made one, never a deleted file).
    assert store.totals() == (0, 0.0, 0.0) and store.info().rows == 0
    good = tmp_path / "good.parquet"
    write_parquet(good, "acct-1", [5.0], ["2026-10-01T00:00:00"], ['{"team": "pay"}'])
    import_files(store, [good])
    before = (store.totals(), store.period_totals().to_dict("records"), stored(store))
    write_parquet(bad, "acct-1", [1.0, math.inf], ["2026-10-01T00:00:00", "2026-10-02T00:00:00"],
                  ['{"owner": "x"}', None])
    with pytest.raises(LoadError):
        import_files(store, [bad])
    assert (store.totals(), store.period_totals().to_dict("records"), stored(store)) == before


OLD_TAGS = ['{"Team": "pay", " org": "retail"}', '{"team": "search"}']


def make_old_store(store: CostStore) -> None:
    """A store as the earlier layout wrote it: a line_items table with every column and a folded map per row."""
    taxonomy = store.taxonomy
    cols = {**FOCUS_COLUMNS, "tags_norm": "VARCHAR", "charge_date": "DATE", "import_id": "INTEGER",
            **{tag_column(k): "VARCHAR" for k in taxonomy.keys}}
    con = duckdb.connect(str(store.path))
    con.execute("CREATE TABLE line_items (" + ", ".join(f'"{c}" {t}' for c, t in cols.items()) + ")")
    con.execute("CREATE TABLE imports (import_id INTEGER PRIMARY KEY, imported_at TIMESTAMP, source VARCHAR, "
                "rows BIGINT, replaced BIGINT, summary VARCHAR)")
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('taxonomy', ?)", [taxonomy_signature(taxonomy)])
    con.execute("INSERT INTO imports VALUES (1, now(), 'old.csv', 2, 0, '{}')")
    for i, (tags, norm, team) in enumerate(zip(OLD_TAGS, ['{"org": "retail", "team": "pay"}', '{"team": "search"}'],
                                               ["pay", "search"], strict=True)):
        con.execute("INSERT INTO line_items (BilledCost, EffectiveCost, ChargePeriodStart, BillingPeriodStart, "
                    "BillingPeriodEnd, BillingAccountId, BillingCurrency, ServiceName, Tags, tags_norm, charge_date, "
                    f"import_id, {tag_column('team')}) VALUES (?, ?, ?, '2026-09-01', '2026-10-01', 'old', 'USD', "
                    "'EC2', ?, ?, ?, 1, ?)",
                    [10.0 + i, 9.0 + i, f"2026-09-0{i + 1}", tags, norm, f"2026-09-0{i + 1}", team])
    con.close()


def test_an_old_layout_store_reads_as_before_and_is_upgraded_by_the_next_load(tmp_path) -> None:
    store = new_store(tmp_path)
    make_old_store(store)
    # Read-only use before any upgrade: the taxonomy column and the per-row folded map still answer.
    assert store.totals() == (2, 21.0, 19.0)
    with store.reader() as con:
        org = store.tag_expr(con, "org")
    assert store.query(f"SELECT coalesce({org}, '-') AS o FROM line_items ORDER BY ChargePeriodStart")[
        "o"].tolist() == ["retail", "-"]
    with Staging(store) as st:
        st.append_frame(pd.DataFrame({"ChargePeriodStart": pd.to_datetime(["2026-10-01"]), "BilledCost": [5.0],
                                      "BillingAccountId": ["new"], "Tags": ['{"TEAM": "ads"}']}), "new.csv")
        summary = st.commit(source="new.csv")
    assert summary.replaced == 0 and summary.import_id == 2
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
        assert kinds["line_items"] == "VIEW" and kinds[DATA_TABLE] == "BASE TABLE"
        assert "tags_norm" not in [r[0] for r in con.execute(f"DESCRIBE {DATA_TABLE}").fetchall()]
        assert con.execute(f"SELECT count(*) FROM {TAG_SETS}").fetchone()[0] == 3
    finally:
        con.close()
    assert store.totals() == (3, 26.0, 24.0)
    by_team = store.query(f"SELECT {tag_column('team')} AS t, sum(BilledCost) AS b FROM line_items GROUP BY 1 "
                          "ORDER BY 1")
    assert by_team.to_dict("records") == [{"t": "ads", "b": 5.0}, {"t": "pay", "b": 10.0}, {"t": "search", "b": 11.0}]
    with store.reader() as con:
        org = store.tag_expr(con, "org")
    assert store.query(f"SELECT coalesce({org}, '-') AS o FROM line_items ORDER BY ChargePeriodStart")[
        "o"].tolist() == ["retail", "-", "-"]


def test_a_changed_taxonomy_refolds_every_stored_row_at_the_next_load(tmp_path) -> None:
    from dataclasses import replace

    first = new_store(tmp_path)
    with Staging(first) as st:
        st.append_frame(pd.DataFrame({"ChargePeriodStart": pd.to_datetime(["2026-10-01", "2026-10-02"]),
                                      "BilledCost": [1.0, 2.0], "BillingAccountId": ["a", "a"],
                                      "Tags": ['{"Squad": "pay", "BU": "retail"}', '{"team": "ads"}']}), "one.csv")
        st.commit()
    assert first.query(f"SELECT count({tag_column('team')}) AS n FROM line_items")["n"][0] == 1
    # The taxonomy now reads "squad" as team and requires a business-unit key.
    taxonomy = replace(first.taxonomy, aliases={"squad": "team", "bu": "business-unit"},
                       required_keys=(*first.taxonomy.required_keys, "business-unit"))
    second = CostStore(first.path, taxonomy)
    with Staging(second) as st:
        st.append_frame(pd.DataFrame({"ChargePeriodStart": pd.to_datetime(["2026-10-03"]), "BilledCost": [4.0],
                                      "BillingAccountId": ["b"], "Tags": [None]}), "two.csv")
        st.commit()
    got = second.query(f"SELECT BilledCost AS c, {tag_column('team')} AS t, {tag_column('business-unit')} AS u "
                       "FROM line_items ORDER BY c")
    assert got["t"].tolist()[:2] == ["pay", "ads"] and got["u"].tolist()[0] == "retail"
    assert got["t"].isna().tolist() == [False, False, True]
    with second.reader() as con:
        assert second.tag_expr(con, "squad") == f"NULLIF(TRIM(\"{tag_column('team')}\"), '')"


def test_a_currency_with_a_quote_is_refused_not_crashed(tmp_path) -> None:
    store = new_store(tmp_path)
    csv = tmp_path / "q.csv"
    csv.write_text("ChargePeriodStart,BilledCost,BillingCurrency\n2026-10-01T00:00:00Z,1,US'D\n"
                   "2026-10-02T00:00:00Z,2,EUR\n")
    with pytest.raises(LoadError, match="mixed currencies"):
        import_files(store, [csv])
    assert store.totals() == (0, 0.0, 0.0)
