"""`finops-tui agenda monthly` and `finops-tui minutes` on the demo home through the installed command:
the markdown agenda, its --json object, -o, bad input, and the minutes of a review closed on that object."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from rituals import runs

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")


def cli(home, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, "--home", str(home.path), *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"})


def test_agenda_and_minutes_on_the_demo(demo_home, tmp_path) -> None:
    out = cli(demo_home, "agenda", "monthly")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("# Monthly cost review: 2026-10")
    for heading in ("## 1. Actions from earlier reviews", "## 2. Spend against budget and forecast",
                    "## 3. Showback per team", "## 4. Unit economics", "## 5. Anomalies since the last review",
                    "## 6. Allocation and commitment coverage", "## 7. Decisions and actions"):
        assert heading in text
    assert "Delete unattached EBS volumes in dev" in text and " USD" in text and "Not available" not in text

    js = cli(demo_home, "agenda", "monthly", "--json", "--no-detect")
    assert js.returncode == 0, js.stderr
    agenda = json.loads(js.stdout)
    assert agenda["month"] == "2026-10" and agenda["currency"] == "USD" and agenda["spend"]["available"]
    assert "NaN" not in js.stdout

    target = tmp_path / "out" / "agenda.md"
    wrote = cli(demo_home, "agenda", "monthly", "--month", "2026-09", "--no-detect", "-o", str(target))
    assert wrote.returncode == 0 and target.read_text(encoding="utf-8").startswith("# Monthly cost review: 2026-09")
    bad = cli(demo_home, "agenda", "monthly", "--month", "2026-9")
    assert bad.returncode == 2 and "--month must be a month YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr

    with demo_home.records.write() as s:
        run = runs.open_run(s, "monthly_review", "2026-10", None, demo_home.clock.now())
        run = runs.save_note(s, run, "spend", "ml-inference | over `budget`")
        runs.close_run(s, run.id, agenda, demo_home.clock.now())
        run_id = run.id
    minutes = cli(demo_home, "minutes", str(run_id))
    assert minutes.returncode == 0, minutes.stderr
    text = minutes.stdout
    assert "\n## Actions from earlier reviews\n" in text and "\n## Spend against budget and forecast\n" in text
    spend = text[text.index("\n## Spend against budget and forecast\n"):text.index("\n## Showback per team\n")]
    assert "> **Notes.** ml-inference \\| over \\`budget\\`" in spend  # the step's note, under its figures
