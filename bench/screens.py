"""Time to numbers on the board and on each ritual screen, on a generated home, against baselines measured in
the same run (every sample a fresh process, the real app through ``finops-tui``'s own ``main`` under Pilot):

1. The board (bench/startup.py's measure): first paint against a bare Textual app painting the same size,
   and when its numbers appear, from the figures cache and recomputed. Target: under 0.8 s.
2. Each ritual screen, opened from the board once the board has settled (its figures recomputed and, in its
   worker, the ritual screens and their logic imported), as a user does (the period due now), moved at
   once to the step that holds its first figures (sweep and commitments: coverage; triage: the queue;
   monthly: spend against budget; quarterly: the KPI scorecard): the time from the open until those
   figures are on the screen. Baselines in the same process: a bare screen of the same size pushed
   and painted, and the ritual's findings computed headless (``RunSession.findings``, imports done),
   which is what the screen waits for. Also printed: the longest stall of the event loop while the screen
   loaded (a key pressed meanwhile waits that long). Target: under 1 s at 5M rows, 2 s at 20M.

   Two opens are timed. **First open**: the run does not exist yet (the one the last sample opened is
   discarded and ``findings-cache.json`` deleted first), so the open creates it and nothing is cached: the
   screen waits for its findings (the monthly review paints spend as soon as that item is computed, before
   the rest of the agenda; the sweep paints its coverage from the summed spend before it reads the
   resources). **Re-open**: the run exists (the warm-up or the last sample opened it), so its first figures
   are the findings last computed for it (shown marked as cached while they are recomputed): "re-open" is
   that time and "fresh" is when the recomputed findings replace them. The triage screen keeps
   no findings cache: its first figures are the stored cases, read live, shown before detection runs.

    python bench/screens.py [--rows 1M] [--samples 3] [--dir DIR] [--only board,tag_sweep,...]
    python bench/screens.py --rows 5M

The home is bench/rituals_scale.py's: a FOCUS file from bench/focus_data.py imported with the real
``finops-tui import`` and the teams written into the records; the first anomaly run is made before timing
(the cases stored, as on a home in use). Without --dir the work folder (about 150 MB at 1M rows, 700 MB at
5M) is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
EXE = str(Path(sys.executable).with_name("finops-tui"))

SCREENS = ("tag_sweep", "anomaly_triage", "commitment_review", "monthly_review", "quarterly_review")

RUNNER = r"""
import asyncio, json, sys, time
mode, home = sys.argv[1], sys.argv[2]
from textual.app import App
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

FIRST_STEP = {"tag_sweep": "coverage", "anomaly_triage": "queue", "commitment_review": "coverage",
              "monthly_review": "spend", "quarterly_review": "scorecard"}


def numbers_shown(screen):
    # True once the step's first figures are in its widgets (what a person sees on that step).
    try:
        if mode == "tag_sweep":
            return screen.query_one("#ts-kpis").kpis[0].value != "loading…"
        if mode == "anomaly_triage":
            return not str(screen.query_one("#anomaly-queue-status").content).startswith("Detecting")
        if mode == "commitment_review":
            return bool(screen.query_one("#cr-kpis").kpis)
        if mode == "monthly_review":
            item = screen.query_one("#mr-spend")
            return any(getattr(t, "row_count", 0) for t in item.query("FrameTable"))
        if mode == "quarterly_review":
            return screen.query_one("#qr-scorecard").row_count > 0
    except Exception:
        return False


class Bare(Screen):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()


async def settle(app):
    from textual.worker import WorkerCancelled
    for _ in range(50):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def painted(app):
    # Once the screen has processed what is pending and refreshed (Pilot's pause waits for the process's
    # CPU to idle, up to a second: not a paint).
    done = asyncio.Event()
    app.screen.call_after_refresh(done.set)
    await done.wait()


async def board_settled(app):
    # The board starts its worker after its first paint: wait for its figures to be recomputed.
    while True:
        try:
            note = str(app.screen.query_one("#figures-note").content)
        except Exception:
            note = ""
        if note.startswith("Figures computed") and "refreshing" not in note:
            break
        await asyncio.sleep(0.01)
    await settle(app)


async def pilot_main(p):
    app = p.app
    await board_settled(app)  # the ritual opens on a settled board, its figures recomputed
    await painted(app)
    t = time.perf_counter()
    await app.push_screen(Bare())
    await painted(app)
    bare = time.perf_counter() - t
    await app.pop_screen()
    await painted(app)
    await settle(app)  # back on the board, it reloads (its figures kept when current): settled first
    stalls = [0.0]

    async def ticker():
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            stalls.append(now - last - 0.005)
            last = now

    tick = asyncio.create_task(ticker())
    t = time.perf_counter()
    board = app.screen
    app.open_ritual(mode)
    while app.screen is board or not app.screen.is_mounted:  # on_mount shows the first step
        await asyncio.sleep(0.001)
    app.screen.go_to(FIRST_STEP[mode])  # the user moves straight to the figures
    shown = fresh = None
    screen = app.screen
    while time.perf_counter() - t < 600:
        if numbers_shown(screen):
            await painted(app)
            shown = time.perf_counter() - t
            break
        await asyncio.sleep(0.005)
    cached = screen.shown_cached is not None  # the figures first shown were cached (findings-cache.json)
    tick.cancel()
    while time.perf_counter() - t < 600:  # the fresh findings replacing them
        if screen.findings is not None:
            await painted(app)
            fresh = time.perf_counter() - t
            break
        await asyncio.sleep(0.005)
    print("RESULT " + json.dumps({"bare": bare, "shown": shown, "stall": max(stalls), "fresh": fresh,
                                  "cached": cached, "caches": type(screen).SHOWS_CACHED}), flush=True)
    await settle(app)
    app.exit()


_run = App.run


def headless_run(self, *args, **kwargs):
    return _run(self, headless=True, auto_pilot=pilot_main, size=(120, 40))


App.run = headless_run
from finops_tui.cli import main, tune_collector
tune_collector()  # as the finops-tui command runs (cli.entry)
main(["--home", home], standalone_mode=False)
"""

DISCARD = r"""
import sys
from pathlib import Path
from rituals.session import RunSession
from storage.home import Home
home = Home(Path(sys.argv[1]))
session = RunSession(home, sys.argv[2])
session.open()  # the period the screen opens (due now)
session.discard()
(home.path / "findings-cache.json").unlink(missing_ok=True)
print("RESULT {}", flush=True)
"""

FINDINGS = r"""
import json, sys, time
from pathlib import Path
from finops_tui.cli import tune_collector
tune_collector()  # the collector as the app runs with it
import duckdb, pandas  # noqa: F401 - imported before timing: the screens have them by then too
from rituals.session import RunSession
from storage.home import Home
home = Home(Path(sys.argv[1]))
out = {}
for kind in sys.argv[2:]:
    session = RunSession(home, kind)
    t = time.perf_counter()
    session.open(allow_future=True)
    session.findings()
    out[kind] = time.perf_counter() - t
print("RESULT " + json.dumps(out), flush=True)
"""


def child(script: str, args: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=1200)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise RuntimeError(f"{args[0]}: no result\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")


def med(values: list[float]) -> float:
    return statistics.median(values)


def screens(home: Path, kinds: list[str], samples: int, env: dict[str, str]) -> bool:
    ok = True
    target = 1.0 if int(home.name.split("_")[-1]) <= 5_000_000 else 2.0
    print(f"{'screen':18s} {'first open':>10s} {'stall':>6s} {'re-open':>8s} {'fresh':>6s} {'stall':>6s} "
          f"{'bare':>6s} {'findings':>9s}  (medians of {samples}; target {target:g} s for both opens' numbers)")
    for kind in kinds:
        child(RUNNER, [kind, str(home)], env)  # a warm-up: the file cache, the run opened once
        shown, fresh, first, bare, stall, first_stall, floor = [], [], [], [], [], [], []
        for _ in range(samples):  # interleaved, so machine noise hits all alike
            child(DISCARD, [str(home), kind], env)  # the first open of a run: created now, nothing cached
            r = child(RUNNER, [kind, str(home)], env)
            if r["shown"] is None or r["cached"]:
                raise RuntimeError(f"{kind}: first open: {'no numbers' if r['shown'] is None else 'cached figures'}")
            first.append(r["shown"]), first_stall.append(r["stall"])
            r = child(RUNNER, [kind, str(home)], env)  # the run re-opened: its findings cached
            if r["shown"] is None or r["fresh"] is None:
                raise RuntimeError(f"{kind}: the numbers never appeared")
            if r["caches"] and not r["cached"]:
                raise RuntimeError(f"{kind}: re-opened, the run's findings were not read from the cache")
            shown.append(r["shown"]), fresh.append(r["fresh"]), bare.append(r["bare"]), stall.append(r["stall"])
            floor.append(child(FINDINGS, [str(home), kind], env)[kind])
        good = max(med(first), med(shown)) <= target
        ok &= good
        print(f"{kind:18s} {med(first):9.2f}s {med(first_stall):5.2f}s {med(shown):7.2f}s {med(fresh):5.2f}s "
              f"{med(stall):5.2f}s {med(bare):5.3f}s {med(floor):8.2f}s  {'OK' if good else 'OVER TARGET'} "
              f"(first {', '.join(f'{s:.2f}' for s in first)}; re-open {', '.join(f'{s:.2f}' for s in shown)})",
              flush=True)
    return ok


def main() -> int:
    import rituals_scale
    import startup

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1M", help="rows of the generated home: 1M (default), 5M, 20M")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None, help="work folder, kept (default: a temporary one, deleted)")
    ap.add_argument("--only", default=",".join(("board", *SCREENS)), help="board and/or screens, comma separated")
    args = ap.parse_args()
    only = [o.strip() for o in args.only.split(",") if o.strip()]
    if unknown := [o for o in only if o not in ("board", *SCREENS)]:
        ap.error(f"unknown: {', '.join(unknown)}")
    work = args.dir or Path(tempfile.mkdtemp(prefix="finops-screens-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FINOPS_TUI_TODAY": rituals_scale.TODAY}
    env.pop("FINOPS_TUI_SQL_LOG", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs: compiled bytecode, kept aside
    env.setdefault("PYTHONPYCACHEPREFIX", str(work / "pycache"))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus: {os.cpu_count()}")
    try:
        rows = rituals_scale.parse_rows(args.rows)
        home = rituals_scale.build_home(work, rows, env)
        t = time.perf_counter()
        rituals_scale.wrapped([EXE, "--home", str(home), "anomalies", "--json"], env)  # the cases stored
        print(f"{rows:,} rows, home {home}; first anomaly run {time.perf_counter() - t:.1f} s")
        ok = True
        if "board" in only:
            ok &= startup.board(home, args.samples, env)
        kinds = [o for o in only if o in SCREENS]
        if kinds:
            ok &= screens(home, kinds, args.samples, env)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
