"""Benchmark: owners updating shared actions at the same time on one SQLite records file.

Prints accepted updates per second, refusals (stale --if-version updates, reported, never applied) and
errors for 8 writer processes x 200 updates each through rituals.actions.update_action (BEGIN IMMEDIATE +
version check), against a baseline measured in the same run: one writer making 200 updates alone. A short
sample through the installed `finops-tui actions update` command shows what a person at a terminal sees
(process start-up dominates there). Afterwards it checks that every accepted update left its event.

    python bench/actions_concurrency.py [--writers 8] [--updates 200] [--actions 8] [--cli-updates 5]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

STATUSES = ("open", "in_progress", "blocked")


def prepare(home: Path, writers: int, actions: int) -> None:
    from rituals.actions import create_action
    from rituals.people import add_person
    from rituals.raci import ensure_raci
    from storage.db import Records

    records = Records.at(home / "records.sqlite")
    ensure_raci(records)
    now = datetime.now(UTC)
    with records.write() as s:
        lead = add_person(s, "lead", "Lead", "finops_lead")
        for k in range(writers):
            # Every writer may change every action: FinOps leads (rituals.actions.may_change).
            add_person(s, f"w{k}", f"Writer {k}", "finops_lead")
        for a in range(actions):
            create_action(s, title=f"shared {a + 1}", owner_id=lead.id, now=now, actor_id=lead.id)
    records.dispose()


def writer(home: str, k: int, updates: int, actions: int, start: mp.Event, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from rituals.actions import StaleUpdate, update_action
    from rituals.people import get_person
    from storage.db import Records

    records = Records(f"sqlite:///{home}/records.sqlite", migrate=False)
    with records.session() as s:
        me = get_person(s, f"w{k}").id
    known = {a: 1 for a in range(1, actions + 1)}
    tally: Counter[str] = Counter()
    start.wait()
    for i in range(updates):
        action = (k + i) % actions + 1
        checked = i % 3 != 2  # every third update goes without --if-version
        try:
            done = update_action(records, action, actor_id=me, now=datetime.now(UTC), status=STATUSES[(k + i) % 3],
                                 note=f"w{k}-u{i}", if_version=known[action] if checked else None)
            known[action] = done.version
            tally["accepted"] += 1
        except StaleUpdate as exc:
            tally["refused"] += 1
            known[action] = int(str(exc).split("is at version ")[1].split(",")[0])
        except Exception as exc:  # noqa: BLE001  # counted, not hidden
            tally["locked" if "locked" in str(exc).lower() else "errors"] += 1
    records.dispose()
    out.put(dict(tally))


def run_library(home: Path, writers: int, updates: int, actions: int) -> tuple[float, Counter[str]]:
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(str(home), k, updates, actions, start, out)) for k in range(writers)]
    for p in procs:
        p.start()
    time.sleep(2.0)  # let every process import and open the store before the clock starts
    t0 = time.perf_counter()
    start.set()
    total: Counter[str] = Counter()
    for _ in procs:
        total.update(out.get())
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    return elapsed, total


def run_cli(home: Path, writers: int, updates: int) -> tuple[float, Counter[str]]:
    exe = shutil.which("finops-tui")
    if exe is None:
        return 0.0, Counter()
    t0 = time.perf_counter()
    script = (
        "import subprocess, sys\n"
        "exe, home, me, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])\n"
        "for i in range(n):\n"
        "    p = subprocess.run([exe, '--home', home, 'actions', 'update', str(i % 4 + 1), '--note', f'cli-{me}-{i}',\n"
        "                        '--as', me], capture_output=True, text=True)\n"
        "    print(p.returncode, 'locked' in p.stderr.lower())\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, exe, str(home), f"w{k}", str(updates)],
                              stdout=subprocess.PIPE, text=True) for k in range(writers)]
    tally: Counter[str] = Counter()
    for p in procs:
        for line in p.communicate()[0].splitlines():
            rc, locked = line.split()
            tally["accepted" if rc == "0" else ("locked" if locked == "True" else "errors")] += 1
    return time.perf_counter() - t0, tally


def count_events(home: Path) -> tuple[int, dict[int, int]]:
    from sqlmodel import select

    from storage.db import Records
    from storage.records import Action, ActionEvent

    records = Records(f"sqlite:///{home}/records.sqlite", migrate=False)
    with records.session() as s:
        events = len(s.exec(select(ActionEvent).where(ActionEvent.field != "created")).all())
        versions = {a.id: a.version for a in s.exec(select(Action)).all()}
    records.dispose()
    return events, versions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--updates", type=int, default=200)
    ap.add_argument("--actions", type=int, default=8)
    ap.add_argument("--cli-updates", type=int, default=5)
    args = ap.parse_args()
    os.environ.setdefault("FINOPS_TUI_TODAY", "2026-11-27")
    with tempfile.TemporaryDirectory(prefix="finops-bench-") as tmp:
        base_home, home, cli_home = Path(tmp, "baseline"), Path(tmp, "contended"), Path(tmp, "cli")
        for h in (base_home, home, cli_home):
            h.mkdir()
            prepare(h, args.writers, args.actions)

        base_s, base = run_library(base_home, 1, args.updates, args.actions)
        print(f"baseline  1 writer  x {args.updates} updates: {base['accepted'] / base_s:8.1f} accepted/s "
              f"({base['accepted']} accepted, {base['refused']} refused, {base['errors'] + base['locked']} errors, "
              f"{base_s:.2f} s)")

        par_s, par = run_library(home, args.writers, args.updates, args.actions)
        total = args.writers * args.updates
        print(f"contended {args.writers} writers x {args.updates} updates: {par['accepted'] / par_s:8.1f} accepted/s "
              f"({par['accepted']} accepted, {par['refused']} refused as stale, {par['errors']} errors, "
              f"{par['locked']} 'database is locked'; {total} attempted in {par_s:.2f} s)")
        events, versions = count_events(home)
        applied = sum(v - 1 for v in versions.values())
        ok = events == par["accepted"] == applied
        print(f"consistency: {events} events, {applied} version bumps, {par['accepted']} accepted -> "
              f"{'OK' if ok else 'MISMATCH'}")

        if args.cli_updates:
            cli_s, cli = run_cli(cli_home, args.writers, args.cli_updates)
            n = sum(cli.values())
            if n:
                print(f"cli       {args.writers} writers x {args.cli_updates} `finops-tui actions update`: "
                      f"{cli['accepted'] / cli_s:8.1f} accepted/s ({cli['accepted']} accepted, "
                      f"{cli['errors']} errors, {cli['locked']} locked; {n} runs in {cli_s:.2f} s, "
                      f"{cli_s * args.writers / n:.2f} s per run)")
        if not ok or par["locked"] or par["errors"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
