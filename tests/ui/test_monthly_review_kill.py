"""Meeting mode autosave survives a killed terminal: a note typed in the monthly review (a Pilot-driven app
in a child process) is in the records after the process is SIGKILLed 1.5 s later, and reopening the review
resumes the same open run with the note in its box."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import TextArea

from finops_tui.app import FinOpsApp
from finops_tui.screens.monthly_review import MonthlyReviewScreen
from rituals import runs
from storage.clock import Clock
from storage.home import Home
from tests.conftest import FIXED_TODAY
from tests.workers import workers_done

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import asyncio, sys
from datetime import date
from pathlib import Path
from storage.clock import Clock
from storage.home import Home
from finops_tui.app import FinOpsApp
from tests.workers import workers_done
from finops_tui.screens.monthly_review import MonthlyReviewScreen

async def main() -> None:
    home = Home(Path(sys.argv[1]), clock_override=Clock(date(2026, 11, 27)))
    app = FinOpsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = MonthlyReviewScreen(home)
        await app.push_screen(screen)
        for _ in range(3):
            await workers_done(app)
            await pilot.pause()
        screen.go_to("spend")
        screen.query_one("#notes-spend").focus()
        await pilot.press(*"over budget | [kill]")
        print("TYPED", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_a_review_note_survives_killing_the_app_and_the_run_resumes(tmp_path) -> None:
    path = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline()
        assert line.strip() == "TYPED", proc.stderr.read()
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    home = Home(path, clock_override=Clock(FIXED_TODAY))
    try:
        with home.records.session() as s:
            [run] = runs.list_runs(s, "monthly_review")
        assert run.status == "open" and run.period == "2026-10"
        assert run.notes == {"spend": "over budget | [kill]"}
        app = FinOpsApp(home)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = MonthlyReviewScreen(home)
            await app.push_screen(screen)
            for _ in range(3):
                await workers_done(app)
                await pilot.pause()
            assert screen.run.id == run.id
            assert screen.query_one("#notes-spend", TextArea).text == "over budget | [kill]"
    finally:
        home.close()
