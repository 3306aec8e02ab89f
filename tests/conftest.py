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
_SHARED_DEMO = pytest.StashKey[tuple]()
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXED_TODAY = date(2026, 11, 27)

# End-to-end tests run the installed `finops-tui`: the one beside this interpreter comes first on PATH, so
# `python -m pytest` from a virtual environment finds it without activating the environment.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


SHARED_DEMO_ENV = "FINOPS_TUI_TEST_SHARED_DEMO"
BUILD_DEMO = r"""
import pickle, sys, traceback
from datetime import date
from pathlib import Path
out = Path(sys.argv[1])
try:
    from rituals.demo_company import build_demo
    truth = build_demo(out / "home", date.fromisoformat(sys.argv[2]))
    (out / "truth.part").write_bytes(pickle.dumps(truth))
    (out / "truth.part").rename(out / "truth.pickle")
except BaseException:
    traceback.print_exc()
    (out / "failed").touch()
    raise
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{engines.MARKER}: run the tests on SQLite and on PostgreSQL "
                                       f"({engines.PG_ENV})")
    # The xdist controller starts the demo's one build for the run before the workers exist (they inherit
    # where it goes), so no worker builds its own (~20 s each) or waits idle for another's.
    if getattr(config.option, "numprocesses", None) and not os.environ.get("PYTEST_XDIST_WORKER"):
        import subprocess
        import tempfile

        shared = Path(tempfile.mkdtemp(prefix="finops-tui-demo-"))
        log = open(shared / "build.log", "w")  # noqa: SIM115 - closed in pytest_unconfigure
        proc = subprocess.Popen([sys.executable, "-c", BUILD_DEMO, str(shared), FIXED_TODAY.isoformat()],
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        os.environ[SHARED_DEMO_ENV] = str(shared)
        config.stash[_SHARED_DEMO] = (proc, shared, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    held = config.stash.get(_SHARED_DEMO, None)
    if held is not None:
        import shutil

        proc, shared, log = held
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()
        shutil.rmtree(shared, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that read the shared demo run after the others (otherwise in collection order): xdist hands
    each worker a run of consecutive tests, and a worker whose run began with a demo test sat idle until the
    controller's build was done (~30 s of a core per run, measured)."""
    items.sort(key=lambda item: "demo_truth_and_path" in getattr(item, "fixturenames", ()))


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
    copy it with `demo_home` to change it). Under xdist it is built by a process the controller starts
    before the workers (``pytest_configure``), while they run the tests that do not need it."""
    import pickle
    import shutil
    import time

    from rituals.demo_company import build_demo

    path = tmp_path_factory.mktemp("demo-home")
    shared = os.environ.get(SHARED_DEMO_ENV)
    if not shared or not os.environ.get("PYTEST_XDIST_WORKER"):
        return build_demo(path, FIXED_TODAY), path
    built = Path(shared)
    deadline = time.monotonic() + 900
    while not (built / "truth.pickle").exists():
        if (built / "failed").exists() or time.monotonic() > deadline:
            log = (built / "build.log").read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"the shared demo build failed or never finished:\n{log[-4000:]}")
        time.sleep(0.1)
    shutil.copytree(built / "home", path, dirs_exist_ok=True)
    return pickle.loads((built / "truth.pickle").read_bytes()), path


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
