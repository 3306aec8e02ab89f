"""FINOPS_TUI_SQL_LOG: the statements a named query runs are logged with their parameters (dates kept as
dates), and replaying the log on the same store gives the query's own answer."""

from __future__ import annotations

import json
from datetime import date

import duckdb

from storage.sql_log import SQL_LOG_ENV, decode
from tests.unit.test_board_figures import row, scratch_home


def test_the_logged_statements_replay_to_the_same_answer(tmp_path, monkeypatch) -> None:
    (tmp_path / "h").mkdir()
    home = scratch_home(tmp_path / "h", date(2026, 11, 20),
                        [row(date(2026, 11, d), float(d), team="web" if d % 2 else None) for d in range(1, 20)])
    log = tmp_path / "sql.jsonl"
    monkeypatch.delenv(SQL_LOG_ENV, raising=False)
    home.costs.daily_cost(date(2026, 11, 1), date(2026, 11, 10))
    assert not log.exists()  # off unless set
    monkeypatch.setenv(SQL_LOG_ENV, str(log))
    frame = home.costs.daily_cost(date(2026, 11, 3), date(2026, 11, 10))
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries[0] == {"connect": str(home.costs_path)}
    entries = [e for e in entries if "connect" not in e]
    assert entries and all("sql" in e for e in entries)
    last = entries[-1]
    assert decode(last["params"]) == [date(2026, 11, 3), date(2026, 11, 10)]
    con = duckdb.connect(str(home.costs_path), read_only=True)
    replayed = con.execute(last["sql"], decode(last["params"])).fetchall()
    con.close()
    assert [float(r[-1]) for r in replayed] == [float(d) for d in range(3, 10)] == frame["cost"].tolist()
