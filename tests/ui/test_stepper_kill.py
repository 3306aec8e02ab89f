"""Autosave survives a killed terminal: a note typed in a Pilot-driven app is in the records after the
app's process is killed with SIGKILL 1.2 s later (the promise is: nothing typed more than 2 s before)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rituals import runs
from storage.db import Records, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import asyncio, sys
from datetime import date
from pathlib import Path
from storage.clock import Clock
from storage.home import Home
from finops_tui.app import FinOpsApp
from tests.workers import workers_done
from tests.ui.test_stepper import TinyReview

async def main() -> None:
    home = Home(Path(sys.argv[1]), clock_override=Clock(date(2026, 11, 27)))
    app = FinOpsApp(home)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = TinyReview(home, "2026-10")
        await app.push_screen(screen)
        await workers_done(app)
        await pilot.pause()
        await pilot.press("n")
        screen.query_one("#notes-spend").focus()
        await pilot.press(*"typed before the kill")
        print("TYPED", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_note_survives_killing_the_app(tmp_path) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(home)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline()
        assert line.strip() == "TYPED", proc.stderr.read()
        time.sleep(1.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    records = Records(sqlite_url(home / "records.sqlite"), migrate=False)
    try:
        with records.session() as s:
            [run] = runs.list_runs(s, "monthly_review")
        assert run.notes == {"spend": "typed before the kill"}
    finally:
        records.dispose()
