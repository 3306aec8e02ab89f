"""The installed ``finops-tui`` script runs ``cli.entry``: ``main`` with the collector tuned for start-up."""

from __future__ import annotations

import gc
import sys
import tomllib
from pathlib import Path

import pytest

from finops_tui import cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_script_is_the_entry() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["finops-tui"] == "finops_tui.cli:entry"


def test_entry_raises_the_threshold_runs_main_and_freezes(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = gc.get_threshold()
    monkeypatch.setattr(sys, "argv", ["finops-tui", "--version"])
    try:
        with pytest.raises(SystemExit) as done:
            cli.entry()
        assert done.value.code == 0
        assert "finops-tui" in capsys.readouterr().out  # main ran: click printed the version
        assert gc.get_threshold() == cli.GC_THRESHOLD
        assert gc.get_freeze_count() > 0  # what existed at the end is frozen, so the exit does not walk it
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
