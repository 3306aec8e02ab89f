"""Shared fixtures: a temporary home, a fixed clock, and where the shared real billing files live."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import pytest

from storage.clock import Clock
from storage.home import Home

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXED_TODAY = date(2026, 11, 27)

# End-to-end tests run the installed `finops-tui`: the one beside this interpreter comes first on PATH, so
# `python -m pytest` from a virtual environment finds it without activating the environment.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


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


@pytest.fixture(scope="session")
def demo_truth_and_path(tmp_path_factory: pytest.TempPathFactory):
    """The demo company built once per test process (read it; copy it with `demo_home` to change it)."""
    from rituals.demo_company import build_demo

    path = tmp_path_factory.mktemp("demo-home")
    truth = build_demo(path, FIXED_TODAY)
    return truth, path


@pytest.fixture
def demo_truth(demo_truth_and_path):
    return demo_truth_and_path[0]


@pytest.fixture
def demo_home(demo_truth_and_path, tmp_path: Path) -> Home:
    """A private copy of the demo home, safe to write into."""
    import shutil

    src = demo_truth_and_path[1]
    dst = tmp_path / "demo"
    shutil.copytree(src, dst)
    h = Home(dst, clock_override=Clock(FIXED_TODAY))
    yield h
    h.close()
