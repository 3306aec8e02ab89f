"""Start-up, measured in one run against floors measured in the same run (every sample a fresh process):

1. Records-only commands (`people list`, `actions list`, `actions update`) through the real console
   script, against a floor process that imports sqlmodel and runs one query on the same records file.
   Target: at most 1.5x the floor.
2. The board: first paint against a bare Textual app (target: within 3x), and when the board's numbers
   appear: from the cache written by the previous start ("cached"), and recomputed from the stores
   ("current", the figures note no longer saying "refreshing"). A start with the cache file removed
   shows the cold case. Target for the numbers: under 0.8 s.

    python bench/startup.py [--samples 7] [--home DIR]

Children run with bytecode caching on (PYTHONPYCACHEPREFIX in a scratch folder), as an installed package
does. Without --home a demo home is built in a scratch folder; with --home the bench works on a copy of that
home's records (the update writes) and reads its cost store in place.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = str(Path(sys.executable).with_name("finops-tui"))

FLOOR = r"""
import sys
from sqlmodel import create_engine, text
engine = create_engine(f"sqlite:///{sys.argv[1]}")
with engine.connect() as con:
    con.execute(text("SELECT count(*) FROM action")).all()
"""

RUNNER = r"""
import sys, time
t0 = float(sys.argv[1])
mode = sys.argv[2]
from textual.app import App

_orig_run = App.run

async def wait_for_figures(p):
    painted = time.time() - t0
    from finops_tui.widgets.kpi_strip import KpiStrip
    shown = None
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            kpis = p.app.screen.query_one(KpiStrip).kpis
            note = str(p.app.screen.query_one("#figures-note").content)
        except Exception:
            kpis, note = [], ""
        if shown is None and kpis and all(k.value != "loading…" for k in kpis):
            shown = time.time() - t0
        if note.startswith("Figures computed") and "refreshing" not in note:
            print(f"TIMES {painted:.4f} {shown:.4f} {time.time() - t0:.4f}", flush=True)
            break
        await p.pause(0.005)
    p.app.exit()

async def first_paint(p):
    print(f"TIMES {time.time() - t0:.4f}", flush=True)
    p.app.exit()

def headless_run(self, *args, **kwargs):
    pilot = first_paint if mode == "bare" else wait_for_figures
    return _orig_run(self, headless=True, auto_pilot=pilot, size=(120, 40))

App.run = headless_run
if mode == "bare":
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("hello")
            yield Footer()

    Bare().run()
else:
    from finops_tui.cli import main, tune_collector
    tune_collector()  # as the finops-tui command runs (cli.entry)
    main(["--home", sys.argv[3]], standalone_mode=False)
"""


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=120)
    return time.perf_counter() - t


def board_sample(mode: str, home: str, env: dict[str, str]) -> list[float]:
    out = subprocess.run([sys.executable, "-c", RUNNER, repr(time.time()), mode, home], capture_output=True,
                         text=True, timeout=300, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("TIMES"):
            return [float(x) for x in line.split()[1:]]
    raise RuntimeError(f"{mode}: no figures\n{out.stdout}\n{out.stderr[-3000:]}")


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"


def records_only(home: Path, samples: int, env: dict[str, str]) -> bool:
    floor_cmd = [sys.executable, "-c", FLOOR, str(home / "records.sqlite")]
    probe = subprocess.run([EXE, "--home", str(home), "actions", "list", "--all", "--json"], check=True,
                           capture_output=True, text=True, env=env)
    import json

    action = json.loads(probe.stdout)["actions"][0]
    owner = action["owner"]
    commands = {
        "people list": ["people", "list"],
        "actions list": ["actions", "list"],
        "actions update": ["actions", "update", str(action["id"]), "--note", "bench", "--as", owner, "--force"],
    }
    timed(floor_cmd, env)  # warm the file cache
    ok = True
    for name, args in commands.items():
        cmd, floor = [], []
        for _ in range(samples):  # interleaved, so machine noise hits both alike
            cmd.append(timed([EXE, "--home", str(home), *args], env))
            floor.append(timed(floor_cmd, env))
        ratio = statistics.median(cmd) / statistics.median(floor)
        ok &= ratio <= 1.5
        print(f"{name:15s} {ms(cmd)}; floor {ms(floor)}; ratio {ratio:.2f}x (target 1.5x) "
              f"-> {'OK' if ratio <= 1.5 else 'OVER TARGET'}")
    return ok


def board(home: Path, samples: int, env: dict[str, str]) -> bool:
    cache = home / "figures-cache.json"
    board_sample("board", str(home), env)  # warm the file cache (and write the figures cache)
    bare, paint, cached, current, cold_shown = [], [], [], [], []
    for _ in range(samples):
        bare.append(board_sample("bare", str(home), env)[0])
        p, shown, done = board_sample("board", str(home), env)  # the cache from the previous start
        paint.append(p), cached.append(shown), current.append(done)
        cache.unlink(missing_ok=True)
        cold_shown.append(board_sample("board", str(home), env)[1])  # no cache: numbers once computed
    print(f"bare Textual app, first paint:        {ms(bare)}")
    print(f"finops-tui board, first paint:        {ms(paint)}; ratio "
          f"{statistics.median(paint) / statistics.median(bare):.2f}x (target 3x)")
    print(f"board numbers shown, from the cache:  {ms(cached)} (target 0.8 s)")
    print(f"board numbers current (recomputed):   {ms(current)}")
    print(f"board numbers shown, no cache (cold): {ms(cold_shown)}")
    return statistics.median(cached) <= 0.8 and statistics.median(paint) / statistics.median(bare) <= 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--home", type=Path, default=None, help="an existing home (default: a new demo)")
    parser.add_argument("--only", choices=("records", "board"), default=None)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    env = {**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"}
    with tempfile.TemporaryDirectory() as tmp:
        # As a user runs it: with compiled bytecode (an installed package has it; PYTHONDONTWRITEBYTECODE
        # would make every sample compile the project's modules), kept outside the checkout.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tmp) / "pycache"))
        home = Path(tmp) / "home"
        if args.home is None:
            t = time.perf_counter()
            subprocess.run([EXE, "--home", str(home), "demo", "--no-tui", "--as-of", "2026-11-27"], check=True,
                           capture_output=True, env=env)
            print(f"demo home built in {time.perf_counter() - t:.1f} s")
        else:
            home.mkdir()
            for name in os.listdir(args.home):  # the records copied (the update writes), the costs linked
                src = args.home / name
                if name.startswith("costs.duckdb"):
                    (home / name).symlink_to(src.resolve())
                elif src.is_file() and name != "figures-cache.json":
                    shutil.copy2(src, home / name)
            env.pop("FINOPS_TUI_TODAY")
        timed([EXE, "--home", str(home), "people", "list"], env)  # compiles the bytecode once
        ok = True
        if args.only in (None, "records"):
            ok &= records_only(home, args.samples, env)
        if args.only in (None, "board"):
            ok &= board(home, args.samples, env)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
