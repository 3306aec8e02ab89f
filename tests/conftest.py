"""Shared fixtures: a temporary home, a fixed clock, and where the shared real billing files live."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from storage.clock import Clock
from storage.home import Home

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXED_TODAY = date(2026, 11, 27)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    h = Home(tmp_path / "home", clock_override=Clock(FIXED_TODAY))
    h.path.mkdir(parents=True)
    yield h
    h.close()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is absent (a fresh clone has no shared billing files)")
    return SHARED_DATA
