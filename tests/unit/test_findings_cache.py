"""A ritual's findings as last computed for an open run (rituals.findings_cache): read back as current only
under the key they were computed with (the board's own key: the cost store's last load, the records, the
config, today) and for the same request (run, period, window, options); a damaged file is ignored."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rituals import findings_cache
from rituals.session import RunSession
from storage.clock import Clock
from storage.home import Home
from storage.records import Team, TeamAccount
from tests.unit.test_board_figures import row, scratch_home
from tests.unit.test_figure_cache import load

TODAY = date(2026, 11, 24)  # a Tuesday: last week's sweep (2026-W47, 16 to 23 November) is over
PERIOD = "2026-W47"
ROWS = [row(date(2026, 11, d), 10.0 * d, team="web" if d % 2 else None) for d in range(10, 24)]


def in_week(rows: list[dict]) -> list[dict]:
    return [r for r in rows if date(2026, 11, 16) <= r["ChargePeriodStart"].date() < date(2026, 11, 23)]


def opened(home: Home) -> RunSession:
    session = RunSession(home, "tag_sweep", PERIOD)
    session.open()
    return session


def test_an_open_runs_findings_are_read_back_until_a_load_a_records_write_or_another_day(tmp_path) -> None:
    home = scratch_home(tmp_path, TODAY, ROWS)
    session = opened(home)
    assert session.window == (date(2026, 11, 16), date(2026, 11, 23))
    assert session.cached_findings() is None  # nothing computed yet
    fresh = session.findings()
    assert (tmp_path / findings_cache.CACHE_FILE).exists()
    hit = opened(home).cached_findings()  # the next open of the same run
    assert hit is not None and hit.current and hit.numbers == fresh.as_json()
    week = in_week(ROWS)
    assert hit.numbers["total_cost"] == sum(r["EffectiveCost"] for r in week)
    assert hit.numbers["unallocated_cost"] == sum(r["EffectiveCost"] for r in week if r["Tags"] is None)

    # Notes typed and attendees ticked change no figure: still current.
    session.save_note("coverage", "looks fine")
    session.set_attendees([])
    assert opened(home).cached_findings().current  # type: ignore[union-attr]

    # Another request is a miss, never someone else's figures: other options, another period.
    assert session.cached_findings(lookback=30) is None
    other = RunSession(home, "tag_sweep", "2026-W46")
    other.open()
    assert other.cached_findings() is None

    # A write to the records the findings read (an account given to a team): stale, not current.
    with home.records.write() as s:
        web = Team(name="web")
        s.add(web)
        s.flush()
        s.add(TeamAccount(team_id=web.id, account_id="A1"))
    stale = opened(home).cached_findings()
    assert stale is not None and not stale.current and stale.numbers == hit.numbers
    session.findings()
    assert opened(home).cached_findings().current  # type: ignore[union-attr]

    # A load of the cost store.
    load(home, [row(date(2026, 11, d), 99.0, team="web") for d in range(10, 24)])
    assert not opened(home).cached_findings().current  # type: ignore[union-attr]
    refreshed = opened(home).findings()
    assert refreshed.as_json()["total_cost"] == 99.0 * 7
    assert opened(home).cached_findings().numbers["total_cost"] == 99.0 * 7  # type: ignore[union-attr]

    # Another day (the week's window is the same, the key's day is not).
    tomorrow = Home(tmp_path, clock_override=Clock(TODAY + timedelta(days=1)))
    later = opened(tomorrow).cached_findings()
    assert later is not None and not later.current and later.numbers["total_cost"] == 99.0 * 7


def test_a_closed_run_reads_and_writes_no_cached_findings(tmp_path) -> None:
    home = scratch_home(tmp_path, TODAY, ROWS)
    session = opened(home)
    outcome = session.close()
    assert session.run is not None and session.run.status == "closed"
    before = (tmp_path / findings_cache.CACHE_FILE).read_bytes()  # the close computed them while open
    assert session.cached_findings() is None  # a closed run shows what it froze
    session.findings()
    assert (tmp_path / findings_cache.CACHE_FILE).read_bytes() == before  # nor does it write
    again = opened(home)  # opening the period again starts a new run: another request, a miss
    assert again.run is not None and again.run.id != outcome.run.id and again.cached_findings() is None


def test_a_damaged_cache_file_is_ignored_and_rewritten(tmp_path) -> None:
    home = scratch_home(tmp_path, TODAY, ROWS)
    path = tmp_path / findings_cache.CACHE_FILE
    for damage in ("{not json", "[1, 2]", '{"tag_sweep": {"figures": {"request": 3}, "computed_at": "x"}}',
                   '{"tag_sweep": {"figures": {"numbers": 1}, "computed_at": "2026-11-24T10:00:00+00:00"}}'):
        path.write_text(damage, encoding="utf-8")
        session = opened(home)
        assert session.cached_findings() is None, damage
    session.findings()
    hit = opened(home).cached_findings()
    assert hit is not None and hit.current
    assert hit.numbers["total_cost"] == sum(r["EffectiveCost"] for r in in_week(ROWS))


def test_the_board_cache_is_left_alone(tmp_path) -> None:
    # The findings live in a file of their own: the board's start reads figures-cache.json only.
    from storage import figure_cache

    home = scratch_home(tmp_path, TODAY, ROWS)
    opened(home).findings()
    assert not (tmp_path / figure_cache.CACHE_FILE).exists()


@pytest.mark.records_engines
def test_the_key_reads_the_records_on_either_engine(tmp_path, records_db_url) -> None:
    # On PostgreSQL the records' digest is read through SQLAlchemy, leaving out the same columns.
    scratch_home(tmp_path, TODAY, ROWS)
    home = Home(tmp_path, records_db_url, clock_override=Clock(TODAY))
    session = opened(home)
    session.findings()
    session.save_note("coverage", "typed")
    assert opened(home).cached_findings().current  # type: ignore[union-attr]
    with home.records.write() as s:
        s.add(Team(name="data"))
    assert not opened(home).cached_findings().current  # type: ignore[union-attr]


def test_a_miss_does_not_read_the_records_for_the_key(tmp_path, monkeypatch) -> None:
    # The key digests every record table; an open with nothing cached for its request (the first open, or
    # other options) answers without it, and a hit still checks it.
    from storage import figure_cache

    home = scratch_home(tmp_path, TODAY, ROWS)
    session = opened(home)
    real = figure_cache.records_digest
    calls: list[tuple[str, ...]] = []

    def counted(h, tables):  # type: ignore[no-untyped-def]
        calls.append(tables)
        return real(h, tables)

    monkeypatch.setattr(figure_cache, "records_digest", counted)
    assert session.cached_findings() is None and calls == []  # no file yet
    session.findings()
    calls.clear()
    assert session.cached_findings(lookback=30) is None and calls == []  # an entry, for another request
    hit = session.cached_findings()
    assert hit is not None and hit.current and len(calls) == 1
