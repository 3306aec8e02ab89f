"""Shared fixtures: a temporary home, a fixed clock, where the shared real billing files live, and the
records engines (a module marked ``records_engines`` runs on SQLite and on PostgreSQL: tests/records_engines.py)."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import pytest

from storage.clock import Clock
from storage.db import sqlite_url
from storage.home import DB_ENV, Home
from tests import records_engines as engines

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXED_TODAY = date(2026, 11, 27)

# End-to-end tests run the installed `finops-tui`: the one beside this interpreter comes first on PATH, so
# `python -m pytest` from a virtual environment finds it without activating the environment.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{engines.MARKER}: run the tests on SQLite and on PostgreSQL "
                                       f"({engines.PG_ENV})")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "records_engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker(engines.MARKER):
        metafunc.parametrize("records_engine", engines.ENGINES, indirect=True)


@pytest.fixture
def records_engine(request: pytest.FixtureRequest) -> str:
    """``sqlite``, or ``postgresql`` in the second variant of a test of a ``records_engines`` module."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_server():
    server = engines.connect(os.environ.get(engines.PG_ENV))
    yield server
    server.close()


@pytest.fixture
def pg_records_url(pg_server):
    """A new PostgreSQL database at the newest revision, dropped after the test."""
    url = pg_server.create_at_head()
    yield url
    pg_server.drop(url)


@pytest.fixture
def pg_empty_url(pg_server):
    """A new, empty PostgreSQL database (no tables), dropped after the test."""
    url = pg_server.create()
    yield url
    pg_server.drop(url)


@pytest.fixture
def records_db_url(records_engine: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """The PostgreSQL variant's database (migrated, no rows), also given to FINOPS_TUI_DB so that the
    installed command and Home.resolve use it; None on SQLite (each home keeps its records.sqlite)."""
    if records_engine != "postgresql":
        return None
    url = request.getfixturevalue("pg_records_url")
    monkeypatch.setenv(DB_ENV, url)
    return url


@pytest.fixture
def records_url(records_db_url: str | None, tmp_path: Path) -> str:
    """A records store at the newest revision (SQLite: a new file, migrated on first open)."""
    return records_db_url or sqlite_url(tmp_path / "records.sqlite")


@pytest.fixture
def empty_records_url(records_engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A records store with no tables at all (SQLite: no file yet; PostgreSQL: a new, empty database)."""
    if records_engine != "postgresql":
        return sqlite_url(tmp_path / "empty.sqlite")
    return request.getfixturevalue("pg_empty_url")


@pytest.fixture
def home(tmp_path: Path, records_db_url: str | None) -> Home:
    h = Home(tmp_path / "home", records_db_url, clock_override=Clock(FIXED_TODAY))
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
    """The demo company built once per test run and copied into each test process's own folder (read it;
    copy it with `demo_home` to change it). Under xdist the first worker to ask builds it under a lock in
    the run's shared temporary folder and the others copy that build: one build of ~20 s, not one a worker."""
    import fcntl
    import pickle
    import shutil

    from rituals.demo_company import build_demo

    path = tmp_path_factory.mktemp("demo-home")
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build_demo(path, FIXED_TODAY), path
    shared = tmp_path_factory.getbasetemp().parent / "shared-demo"  # the run's folder, above each worker's
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if the build fails
        built, truth_file = shared / "home", shared / "truth.pickle"
        if not truth_file.exists():
            shutil.rmtree(built, ignore_errors=True)  # what a failed build left
            truth = build_demo(built, FIXED_TODAY)
            truth_file.write_bytes(pickle.dumps(truth))
        truth = pickle.loads(truth_file.read_bytes())
    shutil.copytree(built, path, dirs_exist_ok=True)
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
