"""Benchmark: the records store on a real PostgreSQL server, against SQLite measured in the same run.

1. Concurrent first opens: N processes open an old-revision (0001, one row) or an empty database at the same
   moment, trial after trial; every open must succeed (they take turns on the store's lock).
2. Owners updating shared actions: 8 writer processes x 200 updates through rituals.actions.update_action
   (the version-checked update every surface uses); accepted updates per second, refusals (stale, reported,
   never applied), errors, and a consistency check (events == accepted == version bumps).

    python bench/records_postgres.py [--pg URL] [--trials 10] [--openers 6] [--writers 8] [--updates 200]

--pg (default: FINOPS_TUI_TEST_PG_URL) names a server and a role that may create databases; the bench
creates its scratch databases there and drops them.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/records_engines.py: the scratch databases and the first-open race

STATUSES = ("open", "in_progress", "blocked")


def first_open_trials(make_url, trials: int, openers: int, start: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(trials with any failed open, opens that failed)."""
    from sqlalchemy import text

    from storage.db import Records
    from tests.records_engines import open_at_once

    bad_trials = bad_opens = 0
    for _ in range(trials):
        url, cleanup = make_url()
        if start != "empty":
            old = Records(url, migrate=False)
            old.upgrade(start)
            with old.engine.begin() as conn:
                conn.execute(text("INSERT INTO person (handle, name, role, active, created_at) "
                                  "VALUES ('ana', 'Ana', 'finops_lead', true, '2025-01-01 00:00:00')"))
            old.dispose()
        with tempfile.TemporaryDirectory() as gate:
            results = open_at_once(url, openers, Path(gate))
        failed = [r for r in results if r.returncode != 0 or "Traceback" in r.stderr]
        bad_trials += bool(failed)
        bad_opens += len(failed)
        cleanup()
    return bad_trials, bad_opens


def prepare(url: str, writers: int, actions: int) -> None:
    from rituals.actions import create_action
    from rituals.people import add_person
    from rituals.raci import ensure_raci
    from storage.db import Records

    records = Records(url)
    ensure_raci(records)
    now = datetime.now(UTC)
    with records.write() as s:
        lead = add_person(s, "lead", "Lead", "finops_lead")
        for k in range(writers):
            add_person(s, f"w{k}", f"Writer {k}", "finops_lead")  # a FinOps lead may change every action
        for a in range(actions):
            create_action(s, title=f"shared {a + 1}", owner_id=lead.id, now=now, actor_id=lead.id)
    records.dispose()


def writer(url: str, k: int, updates: int, actions: int, start: mp.Event, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from rituals.actions import StaleUpdate, update_action
    from rituals.people import get_person
    from storage.db import Records

    records = Records(url, migrate=False)
    with records.session() as s:
        me = get_person(s, f"w{k}").id
    known = {a: 1 for a in range(1, actions + 1)}
    tally: Counter[str] = Counter()
    start.wait()
    for i in range(updates):
        action = (k + i) % actions + 1
        checked = i % 3 != 2  # every third update goes without a version check
        try:
            done = update_action(records, action, actor_id=me, now=datetime.now(UTC), status=STATUSES[(k + i) % 3],
                                 note=f"w{k}-u{i}", if_version=known[action] if checked else None)
            known[action] = done.version
            tally["accepted"] += 1
        except StaleUpdate as exc:
            tally["refused"] += 1
            known[action] = int(str(exc).split("is at version ")[1].split(",")[0])
        except Exception:  # noqa: BLE001  # counted, not hidden
            tally["errors"] += 1
    records.dispose()
    out.put(dict(tally))


def run_writers(url: str, writers: int, updates: int, actions: int) -> tuple[float, Counter[str], bool]:
    from sqlmodel import select

    from storage.db import Records
    from storage.records import Action, ActionEvent

    prepare(url, writers, actions)
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(url, k, updates, actions, start, out)) for k in range(writers)]
    for p in procs:
        p.start()
    time.sleep(2.0)  # every process imports and opens the store before the clock starts
    t0 = time.perf_counter()
    start.set()
    total: Counter[str] = Counter()
    for _ in procs:
        total.update(out.get())
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    records = Records(url, migrate=False)
    with records.session() as s:
        # one note token per accepted update, on each event it made
        events = len({e.note for e in s.exec(select(ActionEvent).where(ActionEvent.field != "created"))})
        bumps = sum(a.version - 1 for a in s.exec(select(Action)).all())
    records.dispose()
    return elapsed, total, events == bumps == total["accepted"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("FINOPS_TUI_TEST_PG_URL"))
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--openers", type=int, default=6)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--updates", type=int, default=200)
    ap.add_argument("--actions", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if not args.pg:
        sys.exit("name a PostgreSQL server with --pg URL or FINOPS_TUI_TEST_PG_URL")
    from storage.db import sqlite_url
    from tests.records_engines import PgServer

    server = PgServer(args.pg)
    tmp = tempfile.TemporaryDirectory(prefix="finops-bench-")
    files = iter(range(10**6))

    def pg_empty():  # type: ignore[no-untyped-def]
        url = server.create()
        return url, lambda: server.drop(url)

    def sqlite_empty():  # type: ignore[no-untyped-def]
        return sqlite_url(Path(tmp.name) / f"r{next(files)}.sqlite"), lambda: None

    failed = False
    for engine, make in (("sqlite", sqlite_empty), ("postgresql", pg_empty)):
        for start in ("0001", "empty"):
            t0 = time.perf_counter()
            bad, opens = first_open_trials(make, args.trials, args.openers, start)
            failed |= bool(bad)
            print(f"first opens  {engine:10} from {start:5}: {bad}/{args.trials} trials with a failure, "
                  f"{opens}/{args.trials * args.openers} opens failed ({time.perf_counter() - t0:.1f} s)")
    for engine, make in (("sqlite", sqlite_empty), ("postgresql", pg_empty)):
        for label, writers in (("baseline", 1), ("contended", args.writers)):
            for r in range(args.rounds if writers > 1 else 1):
                url, cleanup = make()
                s, tally, ok = run_writers(url, writers, args.updates, args.actions)
                cleanup()
                failed |= not ok or bool(tally["errors"])
                print(f"{label:9}  {engine:10} {writers} x {args.updates} updates (round {r + 1}): "
                      f"{tally['accepted'] / s:7.1f} accepted/s, {tally['accepted']} accepted, "
                      f"{tally['refused']} refused as stale, {tally['errors']} errors, "
                      f"consistency {'OK' if ok else 'MISMATCH'} ({s:.2f} s)")
    server.close()
    tmp.cleanup()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
