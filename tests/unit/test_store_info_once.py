"""CostStore.info() reads the store once per state of its file: asked again it opens no connection, and
after a load through the same store object it answers with the new rows."""

from __future__ import annotations

from datetime import date

import pandas as pd

from storage.loader import Staging
from storage.sql_log import SQL_LOG_ENV
from tests.unit.test_board_figures import row, scratch_home


def test_info_is_read_once_per_state_of_the_store(tmp_path, monkeypatch) -> None:
    (tmp_path / "h").mkdir()
    home = scratch_home(tmp_path / "h", date(2026, 11, 20), [row(date(2026, 11, d), 1.0) for d in range(1, 6)])
    log = tmp_path / "sql.jsonl"
    monkeypatch.setenv(SQL_LOG_ENV, str(log))
    first = home.costs.info()
    assert (first.rows, first.first_day, first.last_day) == (5, date(2026, 11, 1), date(2026, 11, 5))
    assert home.costs.info() == first
    assert log.read_text().count('"connect"') == 1  # the second answer came from memory
    with Staging(home.costs, default_currency="USD") as staging:
        staging.append_frame(pd.DataFrame([row(date(2026, 11, d), 2.0) for d in range(1, 9)]), "test")
        staging.commit(replace_all=True)
    after = home.costs.info()
    assert (after.rows, after.last_day) == (8, date(2026, 11, 8))
    assert log.read_text().count('"connect"') == 2
