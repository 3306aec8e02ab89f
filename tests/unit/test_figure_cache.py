"""The board's cached KPI figures: kept in the home outside costs.duckdb, read back as current only under the
key they were computed with (the cost store's last load, the records they read, the config, today)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from rituals.actions import create_action, list_actions
from rituals.board import CACHE_NAME, cached_kpis, fresh_kpis
from storage import figure_cache
from storage.clock import Clock
from storage.home import Home
from storage.loader import Staging
from storage.records import Budget, Person
from tests.unit.test_board_figures import row, scratch_home

TODAY = date(2026, 11, 20)


def load(home: Home, rows: list[dict]) -> None:
    with Staging(home.costs, default_currency="USD") as staging:
        staging.append_frame(pd.DataFrame(rows), "test")
        staging.commit(replace_all=True)


def test_cached_figures_are_current_until_a_load_records_config_or_day_change(tmp_path) -> None:
    home = scratch_home(tmp_path, TODAY, [row(date(2026, 11, d), 10.0, team="web") for d in range(1, 20)])
    assert cached_kpis(home, []) is None  # nothing cached yet
    fresh = fresh_kpis(home, [])
    assert fresh.kpis.mtd_spend == 190.0 and (tmp_path / figure_cache.CACHE_FILE).exists()
    assert not any("cache" in str(v) for v in home.costs.query("SELECT * FROM meta").to_dict("records"))
    again = cached_kpis(home, [])
    assert again is not None and again.current and again.kpis == fresh.kpis
    assert again.computed_at == fresh.computed_at

    # Actions are not part of the key: their counts are read live, the cached figures stay current.
    with home.records.write() as s:
        ana = Person(handle="ana", name="Ana", role="finops_lead")
        s.add(ana)
        s.flush()
        create_action(s, title="Tag it", owner_id=ana.id, now=home.clock.now(), due_date=date(2026, 11, 10))
    with home.records.session() as s:
        views = list_actions(s, today=TODAY)
    still = cached_kpis(home, views)
    assert still is not None and still.current and (still.kpis.open_actions, still.kpis.overdue_actions) == (1, 1)

    # A budget written in the records: stale (never shown as current), then current again once recomputed.
    with home.records.write() as s:
        s.add(Budget(team_id=None, month=date(2026, 11, 1), amount=300.0))
    stale = cached_kpis(home, [])
    assert stale is not None and not stale.current and stale.kpis.month_budget is None
    assert fresh_kpis(home, []).kpis.month_budget == 300.0
    assert cached_kpis(home, []).current  # type: ignore[union-attr]

    # A new load of the cost store.
    load(home, [row(date(2026, 11, d), 20.0, team="web") for d in range(1, 20)])
    assert not cached_kpis(home, []).current  # type: ignore[union-attr]
    assert fresh_kpis(home, []).kpis.mtd_spend == 380.0

    # The config file, and another day.
    (tmp_path / "finops-tui.toml").write_text((tmp_path / "finops-tui.toml").read_text() + "\n[targets]\n"
                                              "allocation_pct = 95.0\n", encoding="utf-8")
    home = Home(tmp_path, clock_override=Clock(TODAY))
    assert not cached_kpis(home, []).current  # type: ignore[union-attr]
    fresh_kpis(home, [])
    assert cached_kpis(Home(tmp_path, clock_override=Clock(TODAY)), []).current  # type: ignore[union-attr]
    later = cached_kpis(Home(tmp_path, clock_override=Clock(date(2026, 11, 21))), [])
    assert later is not None and not later.current


def test_a_damaged_cache_file_is_ignored_and_rewritten(tmp_path) -> None:
    home = scratch_home(tmp_path, TODAY, [row(date(2026, 11, 3), 5.0, team="web")])
    (tmp_path / figure_cache.CACHE_FILE).write_text("{not json", encoding="utf-8")
    assert cached_kpis(home, []) is None
    fresh_kpis(home, [])
    entry = figure_cache.read(home, CACHE_NAME, figure_cache.cache_key(home, ("team", "team_account", "budget")))
    assert entry is not None and entry.current and entry.figures["mtd_spend"] == 5.0


def test_before_the_live_read_the_counts_show_only_while_the_action_table_is_unchanged(tmp_path) -> None:
    from rituals.actions import update_action
    from rituals.board import records_board

    home = scratch_home(tmp_path, TODAY, [row(date(2026, 11, d), 10.0, team="web") for d in range(1, 20)])
    with home.records.write() as s:
        ana = Person(handle="ana", name="Ana", role="finops_lead")
        s.add(ana)
        s.flush()
        create_action(s, title="Tag it", owner_id=ana.id, now=home.clock.now(), due_date=date(2026, 11, 10))
        create_action(s, title="Later", owner_id=ana.id, now=home.clock.now(), due_date=date(2026, 12, 10))
    fresh_kpis(home, [])
    early = cached_kpis(home, None)  # no live read has kept counts yet: the tile waits
    assert early is not None and early.current and not early.counts_known

    board = records_board(home, keep_counts=True)
    assert [a.title for a in board.actions] == ["Tag it", "Later"]  # the first one overdue on the 20th
    early = cached_kpis(home, None)
    assert early is not None and early.counts_known and early.current
    assert (early.kpis.open_actions, early.kpis.overdue_actions) == (2, 1)

    # An action closed since: the kept counts are not shown; the cost figures stay current.
    with home.records.session() as s:
        first = next(a for a in list_actions(s, today=TODAY) if a.title == "Tag it")
    update_action(home.records, first.id, actor_id=ana.id, now=home.clock.now(), status="done")
    early = cached_kpis(home, None)
    assert early is not None and early.current and not early.counts_known
    records_board(home, keep_counts=True)
    early = cached_kpis(home, None)
    assert early is not None and (early.kpis.open_actions, early.kpis.overdue_actions) == (1, 0)

    # Another day can make an open action overdue: counts kept yesterday are not today's.
    tomorrow = cached_kpis(Home(tmp_path, clock_override=Clock(date(2026, 12, 11))), None)
    assert tomorrow is not None and not tomorrow.counts_known


def test_the_cached_strip_is_read_without_sqlalchemy_duckdb_or_pandas(tmp_path) -> None:
    # What lets the board paint its figures right after its first paint: in a fresh interpreter, reading
    # the cache imports none of the heavy libraries (the live read and the recomputation come after).
    import subprocess
    import sys

    home = scratch_home(tmp_path, TODAY, [row(date(2026, 11, d), 10.0, team="web") for d in range(1, 20)])
    fresh_kpis(home, [])
    from rituals.board import records_board

    records_board(home, keep_counts=True)
    code = f"""
import sys
from datetime import date
from storage.clock import Clock
from storage.home import Home
from rituals.board import cached_kpis
from pathlib import Path
found = cached_kpis(Home(Path({str(tmp_path)!r}), clock_override=Clock(date(2026, 11, 20))), None)
assert found is not None and found.current and found.counts_known, found
heavy = sorted(m for m in ("sqlalchemy", "sqlmodel", "duckdb", "pandas", "numpy") if m in sys.modules)
print("heavy:", heavy)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "heavy: []", out.stdout + out.stderr
