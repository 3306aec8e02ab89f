"""CostStore.shared_reads: a ritual's computation reads the cost store on one connection, gives the same
findings as with a connection per query, leaves nothing held after the block, and a write inside it works."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading

import pytest

import storage.costs as costs_module
from rituals.ritual import RITUALS
from storage import cost_queries as cq
from storage.clock import Clock
from storage.home import Home
from tests.conftest import FIXED_TODAY


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of every DuckDB connection the cost store opens."""
    seen: list[str] = []
    real = costs_module.connect

    def counting(path, *, read_only, timeout_s=costs_module.LOCK_TIMEOUT_S):
        seen.append(f"{'r' if read_only else 'w'}:{path}")
        return real(path, read_only=read_only, timeout_s=timeout_s)

    monkeypatch.setattr(costs_module, "connect", counting)
    return seen


def test_a_block_opens_one_connection_and_queries_repeat_their_temporary_tables(demo_home, opened) -> None:
    store = demo_home.costs
    start, end = store.info().first_day, store.info().last_day
    rules = {"111111111111": "platform"}
    alone = [cq.allocation_costs(store, rules, start, end), cq.account_names(store)]
    assert len(opened) >= 2  # outside a block: a connection per query
    opened.clear()
    with store.shared_reads():
        with store.shared_reads():  # blocks nest
            inside = [cq.allocation_costs(store, rules, start, end), cq.account_names(store)]
        # _rules is created again on the same connection (CREATE OR REPLACE): no "already exists"
        again = cq.allocation_costs(store, {"222222222222": "data"}, start, end)
    assert opened == [f"r:{store.path}"]
    assert inside[0] == pytest.approx(alone[0]) and inside[1] == alone[1]  # sums: DuckDB's parallel order
    assert again == pytest.approx(cq.allocation_costs(store, {"222222222222": "data"}, start, end))


def test_every_ritual_gives_the_same_findings_shared_or_not(demo_truth_and_path, tmp_path, opened,
                                                           monkeypatch) -> None:
    """Each on its own copy of the demo home (the first anomaly run stores cases, which a second would
    then find stored)."""
    def findings(name: str) -> dict[str, object]:
        shutil.copytree(demo_truth_and_path[1], tmp_path / name)
        home = Home(tmp_path / name, clock_override=Clock(FIXED_TODAY))
        try:
            out = {}
            for ritual in RITUALS:
                opened.clear()
                out[ritual.kind] = json.loads(json.dumps(ritual.findings(home).as_json(), default=str))
                reads = [c for c in opened if c.startswith("r:")]
                writes = [c for c in opened if c.startswith("w:")]
                assert len(reads) <= 1 + len(writes) or name == "apart", (ritual.kind, opened)
            return out
        finally:
            home.close()

    shared = findings("shared")
    monkeypatch.setattr(costs_module.CostStore, "shared_reads", _no_sharing)
    apart = findings("apart")
    assert shared.keys() == apart.keys()
    for kind in shared:
        assert _same(shared[kind], apart[kind]), kind


RECORD_TIMES = {"first_seen", "at"}  # when each home's first anomaly run stored its cases: the wall clock


def _same(a: object, b: object) -> bool:
    """Equal JSON, numbers to 1e-9 relative: DuckDB sums in parallel, in no fixed order."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a if k not in RECORD_TIMES)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return a == pytest.approx(b, rel=1e-9, abs=1e-6)
    return a == b


def _no_sharing(self):
    import contextlib

    return contextlib.nullcontext()


def test_a_write_inside_the_block_closes_the_shared_connection_first(demo_home, opened) -> None:
    store = demo_home.costs
    with store.shared_reads():
        before = cq.account_names(store)
        with store.writer() as con:  # DuckDB refuses a read-write connection beside this thread's read-only one
            con.execute("CREATE TABLE scratch_t (x INTEGER)")
        assert cq.account_names(store) == before
        assert store.query("SELECT count(*) AS n FROM scratch_t")["n"].iloc[0] == 0
    assert [c[0] for c in opened] == ["r", "w", "r"]  # the reads after the write share a new one


def test_after_the_block_another_process_can_write_and_other_threads_read_on_their_own(demo_home) -> None:
    store = demo_home.costs
    seen: list[object] = []
    with store.shared_reads():
        cq.account_names(store)
        worker = threading.Thread(target=lambda: seen.append(cq.account_names(store)))
        worker.start()
        worker.join(timeout=30)
        assert seen == [cq.account_names(store)]
    code = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute('CREATE TABLE other_t (x INTEGER)'); "
            "c.close()")
    done = subprocess.run([sys.executable, "-c", code, str(store.path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_write_on_another_thread_waits_for_the_shared_connection(demo_home) -> None:
    """A thread writing while another thread's block holds the file read-only waits for the block to end
    (DuckDB refuses both modes at once in one process) instead of failing."""
    store = demo_home.costs
    done: list[str] = []
    started = threading.Event()

    def write() -> None:
        started.set()
        with store.writer() as con:
            con.execute("CREATE TABLE written_t (x INTEGER)")
        done.append("written")

    with store.shared_reads():
        cq.account_names(store)
        writer = threading.Thread(target=write)
        writer.start()
        started.wait(10)
        writer.join(timeout=0.5)
        assert done == []  # still waiting: this block holds the file
    writer.join(timeout=30)
    assert done == ["written"]
    assert store.query("SELECT count(*) AS n FROM written_t")["n"].iloc[0] == 0
