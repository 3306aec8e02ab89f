"""The daily rollup: every named query it serves gives the answer its line-item version gives, on the demo
(whose EKS cluster hands node cost to pods) and on a generated FOCUS file through loads, a replacing load and
a removal; and the rollup's rows stay those a rebuild from every line item gives.

Each query runs twice in one store: with ``FINOPS_TUI_ROLLUP=off`` (the line items) and with the rollup, its
SQL captured (``FINOPS_TUI_SQL_LOG``) to prove the second run read ``rollup_daily``, so agreement is not two
runs of one query.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from storage import cost_queries as cq
from storage import rollup
from storage.cost_queries import remove_period
from storage.cost_queries.periods import PeriodKey
from storage.home import Home
from storage.sources.files import import_files
from storage.sql_log import SQL_LOG_ENV
from tests.conftest import FIXED_TODAY
from tests.unit.warehouse_queries import catalogue, same_answer

# The named queries whose grain the rollup serves (the others need resources, raw tags or row counts).
SERVED = {"allocation_costs", "sweep_data", "fix_costs", "showback_costs_month", "showback_costs_day",
          "billed_by_billing_period", "team_service_months", "anomaly_series", "anomaly_series_one",
          "explorer_costs", "explorer_costs_tag", "daily_cost", "store_info", "explorer_clusters", "account_names",
          "commitment_usage"}
SERVED_WITHOUT_SPLIT_ROWS = {"daily_cost_team"}  # by a dimension: the stored rows, not allocation's
READS = {"commitment_usage": rollup.COMMITMENTS}  # a query served by another rollup than rollup_daily


def _answers(store, calls, monkeypatch: pytest.MonkeyPatch, log: Path) -> dict[str, tuple]:
    """name -> (line-item answer, rollup answer, whether the second run read the rollup)."""
    out = {}
    for name, call in calls.items():
        monkeypatch.setenv("FINOPS_TUI_ROLLUP", "off")
        monkeypatch.delenv(SQL_LOG_ENV, raising=False)
        off = call()
        monkeypatch.delenv("FINOPS_TUI_ROLLUP")
        log.write_text("")
        monkeypatch.setenv(SQL_LOG_ENV, str(log))
        on = call()
        monkeypatch.delenv(SQL_LOG_ENV)
        sqls = [json.loads(line).get("sql") or "" for line in log.read_text().splitlines()]
        out[name] = (off, on, any(READS.get(name, rollup.ROLLUP) in s for s in sqls))
    return out


def _calls(store, teams, account, resource, start: date, end: date):
    calls = catalogue(store, teams, account, resource)
    calls["daily_cost"] = lambda: store.daily_cost(start, end)
    calls["daily_cost_team"] = lambda: store.daily_cost(start, end, "team", usage_only=True)
    calls["explorer_clusters"] = lambda: cq.explorer_costs(store, teams, start, end, group_by=["cluster", "namespace"],
                                                           filters=[("region", ["us-east-1", "(none)"])])
    calls["explorer_resource"] = lambda: cq.explorer_costs(store, teams, start, end, group_by=["resource"])
    return calls


def _check(answers: dict[str, tuple], *, split_rows: bool) -> None:
    served = SERVED if split_rows else SERVED | SERVED_WITHOUT_SPLIT_ROWS
    for name, (off, on, read) in answers.items():
        same_answer(off, on, name)
        assert read == (name in served), f"{name}: read the rollup {read}, expected {name in served}"


def _rebuilt_equals_kept(store) -> None:
    """The rollups as kept equal a rebuild from every line item (sums to 1e-6, row counts exactly)."""
    copy = store.path.with_name("rebuilt.duckdb")
    shutil.copy(store.path, copy)
    con = duckdb.connect(str(copy))
    try:
        for table in (rollup.ROLLUP, rollup.COMMITMENTS):
            con.execute(f"CREATE TABLE kept_{table} AS SELECT * FROM {table}")
        rollup.refresh(con, store)
        for table, sums in ((rollup.ROLLUP, rollup.SUMS), (rollup.COMMITMENTS, ("od", "eff"))):
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            shown = ", ".join(f"round({c}, 6)" if c in sums else c for c in cols)
            for a, b in ((f"kept_{table}", table), (table, f"kept_{table}")):
                extra = con.execute(f"SELECT {shown} FROM {a} EXCEPT ALL SELECT {shown} FROM {b}").fetchall()
                assert not extra, f"{len(extra)} rollup rows in {a} only, e.g. {extra[:2]}"
        assert con.execute("SELECT sum(_rows) FROM rollup_daily").fetchone()[0] == \
            con.execute("SELECT count(*) FROM line_items").fetchone()[0]
        assert con.execute("SELECT sum(n) FROM rollup_commitments").fetchone()[0] == \
            con.execute("SELECT count(*) FROM line_items WHERE ChargeCategory = 'Usage'").fetchone()[0]
    finally:
        con.close()
        copy.unlink()


def test_the_demo_answers_alike_from_the_rollup_and_the_line_items(demo_home: Home, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store = demo_home.costs
    from storage.cost_queries import account_names

    with store.reader() as con:
        assert rollup.is_current(con, store)  # the demo's load built it
        assert con.execute("SELECT count(*) FROM rollup_daily WHERE _container = 'pod'").fetchone()[0] > 0
    names = sorted(account_names(store))
    resource = store.query("SELECT ResourceId FROM line_items WHERE ResourceId IS NOT NULL "
                           "ORDER BY EffectiveCost DESC, ResourceId LIMIT 1").iloc[0, 0]
    calls = _calls(store, {names[0]: "platform"}, names[0], resource, date(2026, 10, 1), FIXED_TODAY)
    answers = _answers(store, calls, monkeypatch, tmp_path / "sql.log")
    _check(answers, split_rows=True)
    clusters = answers["explorer_clusters"][0]
    assert clusters["cluster"].notna().any() and clusters["namespace"].notna().any()  # pod shares were compared
    _rebuilt_equals_kept(store)


def _focus_file(path: Path, rows: int, scale: float, month: str | None = None) -> None:
    from bench.focus_data import generate

    raw = path.with_suffix(".raw.parquet")
    generate(raw, rows)
    con = duckdb.connect()
    # A month's first 20 days only: its replacement must also empty the rollup's days after them.
    where = (f"strftime(BillingPeriodStart, '%Y-%m') = '{month}' AND day(ChargePeriodStart) <= 20"
             if month else "true")
    # ``scale`` changes every cost, so a replacing load's figures differ from the ones it replaces.
    con.execute(f"COPY (SELECT * REPLACE (EffectiveCost * {scale} AS EffectiveCost, BilledCost * {scale} AS "
                f"BilledCost, ListCost * {scale} AS ListCost) FROM read_parquet('{raw}') "
                f"WHERE {where}) "
                f"TO '{path}' (FORMAT parquet)")
    con.close()
    raw.unlink()


def test_a_generated_file_through_loads_a_replacement_and_a_removal(home: Home, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.focus_data import team_accounts

    store = home.costs
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    _focus_file(first, 9_000, 1.0)
    _focus_file(second, 4_500, 1.37, "2026-10")  # October 1-20 again: fewer resources, other costs
    teams = dict(list(team_accounts().items())[:25])
    account = "100000000003"
    calls = _calls(store, teams, account, "none", date(2026, 8, 1), date(2026, 11, 1))

    import_files(store, [first])
    _check(_answers(store, calls, monkeypatch, tmp_path / "sql.log"), split_rows=False)
    _rebuilt_equals_kept(store)

    before = store.totals()
    with store.reader() as con:
        august = con.execute("SELECT * FROM rollup_daily WHERE charge_date < DATE '2026-09-01'").fetchall()
    import_files(store, [second])  # replaces October's billing period: its days refreshed, the others kept
    assert store.totals() != before
    with store.reader() as con:
        assert con.execute("SELECT * FROM rollup_daily WHERE charge_date < DATE '2026-09-01'").fetchall() == august
    _check(_answers(store, calls, monkeypatch, tmp_path / "sql.log"), split_rows=False)
    _rebuilt_equals_kept(store)

    remove_period(store, PeriodKey("2026-09", "999900000001"))
    with store.reader() as con:
        assert con.execute("SELECT count(*) FROM rollup_daily WHERE charge_date >= DATE '2026-09-01' AND "
                           "charge_date < DATE '2026-10-01'").fetchone()[0] == 0
    _check(_answers(store, calls, monkeypatch, tmp_path / "sql.log"), split_rows=False)
    _rebuilt_equals_kept(store)


def test_a_taxonomy_or_containers_change_falls_back_to_the_line_items(demo_home: Home) -> None:
    from dataclasses import replace

    from storage.cost_queries.base import rollup_serves
    from storage.costs import CostStore

    store = demo_home.costs
    other_idle = "platform" if store.containers.idle == "proportional" else "proportional"
    for changed in (CostStore(store.path, replace(store.taxonomy, required_keys=(*store.taxonomy.required_keys, "squad"))),
                    CostStore(store.path, store.taxonomy, replace(store.containers, idle=other_idle))):
        with changed.reader() as con:
            assert not rollup_serves(con, changed)
    with store.reader() as con:
        assert rollup_serves(con, store)


def test_a_taxonomy_change_is_reported_and_periods_rollup_rebuilds_it(demo_home: Home) -> None:
    import tomllib

    from click.testing import CliRunner

    from finops_tui.cli import main
    from storage.doctor import diagnose

    config = demo_home.path / "finops-tui.toml"
    text = config.read_text()
    assert "required_keys" not in tomllib.loads(text)["taxonomy"]  # the demo keeps the default keys
    keys = [*demo_home.config.taxonomy.required_keys, "squad"]
    config.write_text(text.replace("[taxonomy]\n", f"[taxonomy]\nrequired_keys = {json.dumps(keys)}\n", 1))
    assert "squad" in Home(demo_home.path).config.taxonomy.keys  # the edit took
    warned = [f for f in diagnose(Home(demo_home.path)).findings if f.check == "daily rollup"]
    assert [f.status for f in warned] == ["warn"] and "periods rollup" in (warned[0].fix or "")
    env = {"FINOPS_TUI_TODAY": FIXED_TODAY.isoformat()}
    out = CliRunner().invoke(main, ["--home", str(demo_home.path), "periods", "rollup", "--json"], env=env)
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    assert answer["was_current"] is False and answer["rows"] > 0
    fresh = Home(demo_home.path)
    with fresh.costs.reader() as con:
        assert rollup.is_current(con, fresh.costs)
        assert con.execute("SELECT count(*) FROM rollup_daily").fetchone()[0] == answer["rows"]
    assert [f.status for f in diagnose(fresh).findings if f.check == "daily rollup"] == ["ok"]


def test_a_rollup_from_an_older_version_is_stale_and_says_why(demo_home: Home) -> None:
    from dataclasses import replace

    from storage.cost_queries.base import rollup_serves
    from storage.costs import CostStore

    store = demo_home.costs
    assert rollup.state(store)["current"] is True
    with store.writer() as con:
        meta = json.loads(con.execute("SELECT value FROM meta WHERE key = ?", [rollup.META_KEY]).fetchone()[0])
        con.execute("UPDATE meta SET value = ? WHERE key = ?",
                    [json.dumps({**meta, "version": rollup.VERSION - 1}, sort_keys=True), rollup.META_KEY])
    seen = rollup.state(store)
    assert seen["current"] is False and "another version of finops-tui" in str(seen["reason"])
    with store.reader() as con:
        assert not rollup_serves(con, store)  # its columns may differ: the line items answer meanwhile
    changed = CostStore(store.path, replace(store.taxonomy, required_keys=(*store.taxonomy.required_keys, "squad")))
    with store.writer() as con:
        con.execute("UPDATE meta SET value = ? WHERE key = ?", [json.dumps(meta, sort_keys=True), rollup.META_KEY])
    assert "another taxonomy" in str(rollup.state(changed)["reason"])


def test_a_rebuild_in_day_ranges_sums_what_one_statement_sums(demo_home: Home,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The full rebuild sums consecutive charge-day ranges (about rollup.CHUNK_ROWS rows each): the same rows
    as one GROUP BY over every line item (sums to 1e-6; the demo's pod shares included, which are per day)."""
    store = demo_home.costs

    def rows(con, relation: str) -> list:  # type: ignore[no-untyped-def]
        cols = [r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()]
        shown = ", ".join(f'round("{c}", 6)' if c in rollup.SUMS else f'"{c}"' for c in cols)
        return con.execute(f"SELECT {shown} FROM {relation} ORDER BY ALL").fetchall()

    with store.reader() as con:
        one = rows(con, f"({rollup._select(con, store, 'TRUE')})")
        total = con.execute("SELECT count(*) FROM line_items").fetchone()[0]
    monkeypatch.setattr(rollup, "CHUNK_ROWS", total // 3)
    with store.reader() as con:
        assert len(rollup._ranges(con)) == 3
    rollup.rebuild(store)
    with store.reader() as con:
        chunked = rows(con, rollup.ROLLUP)
    assert chunked == one and len(one) > 3


def test_a_column_no_row_had_takes_its_values_when_a_later_load_brings_them(home: Home, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The rollup writes the columns NULL in every line item as constants (rollup.null_columns); a later load
    that brings values for one (here the taxonomy key ``owner``, which the first file's tags lack) has its
    days summed by it, and the kept rollup equals a rebuild."""
    from bench.focus_data import team_accounts

    store = home.costs
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    _focus_file(first, 6_000, 1.0)
    raw = tmp_path / "b.raw.parquet"
    _focus_file(raw, 3_000, 1.0, "2026-10")
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * REPLACE (CASE WHEN Tags IS NULL OR Tags = '{{}}' THEN '{{"owner": "alice"}}'
                    ELSE '{{"owner": "alice", ' || Tags[2:] END AS Tags) FROM read_parquet('{raw}'))
                    TO '{second}' (FORMAT parquet)""")
    con.close()
    import_files(store, [first])
    with store.reader() as con:
        assert "tag_owner" in rollup.null_columns(con, store)
        assert con.execute("SELECT count(tag_owner) FROM rollup_daily").fetchone()[0] == 0
    import_files(store, [second])
    with store.reader() as con:
        assert "tag_owner" not in rollup.null_columns(con, store)
        owned = con.execute("SELECT sum(_rows) FROM rollup_daily WHERE tag_owner = 'alice'").fetchone()[0]
        stored = con.execute("SELECT count(*) FROM line_items WHERE tag_owner = 'alice'").fetchone()[0]
    assert owned == stored > 0
    teams = dict(list(team_accounts().items())[:25])
    calls = _calls(store, teams, "100000000003", "none", date(2026, 8, 1), date(2026, 11, 1))
    calls["explorer_costs_owner"] = lambda: cq.explorer_costs(store, teams, date(2026, 8, 1), date(2026, 11, 1),
                                                              group_by=["tag:owner"])
    answers = _answers(store, calls, monkeypatch, tmp_path / "sql.log")
    off, on, read = answers.pop("explorer_costs_owner")
    same_answer(off, on, "explorer_costs_owner")
    assert read, "the explorer by owner read the rollup"
    assert "alice" in str(on)
    _check(answers, split_rows=False)
    _rebuilt_equals_kept(store)
