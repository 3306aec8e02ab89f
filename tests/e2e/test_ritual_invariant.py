"""One number, one function: for each of the five rituals, on the demo company and on an imported FOCUS
file, the figures agree on every surface a person reads, compared as rendered:

- the installed command's ``--json`` stdout for the run's window;
- the numbers the run froze, read back through a fresh records engine;
- the text of the ritual screen's widgets in Pilot (the run is held and closed there, with c);
- the board's cells (its KPI tile where the ritual owns one, and the ritual's row);
- the figures in the rendered minutes' summary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from exports.format import headline_text
from finops_tui.app import FinOpsApp
from rituals.ritual import RITUALS, Ritual
from storage.clock import Clock
from storage.home import Home
from tests.workers import workers_done

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")]

DEMO_TODAY = date(2026, 12, 2)  # the first days of a month: the board shows last month's spend
FOCUS_TODAY = date(2024, 10, 2)  # the FOCUS sample holds September 2024


def cli_args(ritual: Ritual, period: str, window: tuple[date, date]) -> list[str]:
    """The headless command (and its window options) that prints what a run of ``period`` freezes."""
    start, end = window[0].isoformat(), window[1].isoformat()
    return {
        "tag_sweep": ["sweep", "--start", start, "--end", end],
        "anomaly_triage": ["anomalies", "--start", start, "--end", end],
        "commitment_review": ["commitments", "--start", start, "--end", end],
        "monthly_review": ["agenda", "monthly", "--month", period],
        "quarterly_review": ["kpis", "--quarter", period],
    }[ritual.kind] + ["--json"]


def cli_json(home: Home, today: date, args: list[str]) -> dict:
    out = subprocess.run([EXE, "--home", str(home.path), *args], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "FINOPS_TUI_TODAY": today.isoformat()})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def headless_of(ritual: Ritual, frozen: dict) -> dict:
    """The part of a run's frozen numbers that is the headless command's object."""
    return frozen["kpis"] if ritual.kind == "quarterly_review" else frozen


@pytest.fixture(scope="module")
def focus_source(tmp_path_factory) -> Path:
    """A home holding the FOCUS sample, imported through the installed command (copied per test)."""
    from tests.conftest import SHARED_DATA as shared_data

    if not shared_data.exists():
        pytest.skip("../shared/data is absent (a fresh clone has no shared billing files)")
    path = tmp_path_factory.mktemp("focus-home")
    out = subprocess.run([EXE, "--home", str(path), "import", str(shared_data / "focus-sample-data" / "focus_sample.csv")],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "FINOPS_TUI_TODAY": FOCUS_TODAY.isoformat()})
    assert out.returncode == 0, out.stderr
    return path


@pytest.fixture(params=["demo", "focus"])
def source(request, demo_truth_and_path, tmp_path) -> tuple[Home, date]:
    src = demo_truth_and_path[1] if request.param == "demo" else request.getfixturevalue("focus_source")
    today = DEMO_TODAY if request.param == "demo" else FOCUS_TODAY
    dst = tmp_path / "home"
    shutil.copytree(src, dst)
    home = Home(dst, clock_override=Clock(today))
    yield home, today
    home.close()


async def until(pilot, condition, what: str, seconds: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"gave up waiting for {what}")


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()


async def hold_and_close_in_the_app(home: Home, ritual: Ritual) -> tuple[int, dict[str, str], dict[str, str], str]:
    """Open the ritual from the app, close it with c and confirm; the run's id, the headline figures
    its Record step showed (title -> text), then the board's KPI tiles and the ritual's row as shown."""
    from textual.widgets import DataTable

    from finops_tui.modals.confirm import Confirm
    from finops_tui.screens.board import BoardScreen
    from finops_tui.screens.stepper import RitualStepperScreen
    from finops_tui.widgets.kpi_strip import KpiStrip

    app = FinOpsApp(home)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        app.open_ritual(ritual.kind)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RitualStepperScreen) and screen.kind == ritual.kind
        await pilot.press("c")
        # The close flow computes the findings in a worker, then asks; answer as a person would.
        await until(pilot, lambda: isinstance(app.screen, Confirm), "the close confirmation")
        await pilot.press("y")
        await until(pilot, lambda: screen.session.run is not None and screen.session.run.status == "closed",
                    "the run to close")
        await settle(pilot)
        run = screen.session.run
        assert run is not None and run.status == "closed"
        shown = {k.label: k.value for k in screen.query_one("#stepper-headlines", KpiStrip).kpis}
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        tiles = {k.label: k.value for k in app.screen.query_one(KpiStrip).kpis}
        table = app.screen.query_one("#rituals", DataTable)
        cells = table.get_row(ritual.kind)
        return int(run.id or 0), shown, tiles, str(cells[3])


@pytest.mark.parametrize("ritual", RITUALS, ids=[r.kind for r in RITUALS])
async def test_every_surface_shows_the_same_figures(ritual: Ritual, source) -> None:
    from sqlmodel import select

    from exports.minutes import render_minutes
    from rituals.calendar import due_now
    from storage.db import Records
    from storage.records import RitualRun

    home, today = source
    period = due_now(ritual, home).period
    window = ritual.window(home, period)
    args = cli_args(ritual, period, window)
    cli_json(home, today, args)  # detection stores its cases first, as a scheduled run would have

    run_id, screen_texts, tiles, last_run = await hold_and_close_in_the_app(home, ritual)

    # The frozen numbers, through a fresh engine.
    fresh = Records.at(home.path / "records.sqlite")
    try:
        with fresh.session() as s:
            run = s.exec(select(RitualRun).where(RitualRun.id == run_id)).one()
            frozen = json.loads(json.dumps(run.numbers))
            assert (run.kind, run.period, run.status) == (ritual.kind, period, "closed")
    finally:
        fresh.dispose()

    # The headless command prints exactly what was frozen.
    headless = cli_json(home, today, args)
    assert headless == headless_of(ritual, frozen)

    # The same headline figures, as text, on the screen, in the minutes and on the board.
    heads = ritual.headlines(headless)
    want = {h.title: headline_text(h.value, h.unit, h.currency) for h in heads}
    assert want, "a ritual leads its summary with at least one figure"
    assert screen_texts == want
    with home.records.session() as s:
        minutes = render_minutes(s, run_id, home.config.currency)
    summary = minutes.split("## Summary", 1)[1].split("\n## ", 1)[0]
    for title, text in want.items():
        assert f"| {title} | {text} |" in summary, (title, summary)

    assert last_run.startswith(period)
    if ritual.kind == "tag_sweep":
        assert tiles["Allocation, last 7 days"] == want["Allocation coverage"]
    if ritual.kind == "monthly_review":
        label = next(k for k in tiles if k.startswith("Last month"))
        assert tiles[label] == want["Spend"]
