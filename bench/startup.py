"""Time to first paint of `finops-tui demo` on a built demo home, against a bare Textual app, in one run.

Each sample is a fresh Python process (as a user starts it). "First paint" is the moment Textual hands the
app to its auto-pilot: the first screen has been composed, mounted and rendered. The finops-tui sample goes
through the real command line (`finops-tui --home DIR demo`); App.run is wrapped only to run headless and
to exit at first paint. Target: within 3x of the bare app.

    python bench/startup.py [--samples 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNNER = r"""
import sys, time
t0 = float(sys.argv[1])
mode = sys.argv[2]
from textual.app import App

_orig_run = App.run

def headless_run(self, *args, **kwargs):
    async def pilot(p):
        print(f"FIRST_PAINT {time.time() - t0:.4f}", flush=True)
        p.app.exit()
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
    from finops_tui.cli import main
    main(["--home", sys.argv[3], "demo"], standalone_mode=False)
"""


def sample(mode: str, home: str) -> float:
    out = subprocess.run([sys.executable, "-c", RUNNER, repr(time.time()), mode, home], capture_output=True,
                         text=True, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("FIRST_PAINT"):
            return float(line.split()[1])
    raise RuntimeError(f"{mode}: no first paint\n{out.stdout}\n{out.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = str(Path(tmp) / "demo")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "finops_tui.cli", "--home", home, "demo", "--no-tui",
                        "--as-of", "2026-11-27"], check=True, capture_output=True)
        print(f"demo home built in {time.perf_counter() - t:.1f} s")
        sample("bare", home), sample("demo", home)  # warm the file cache
        bare, demo = [], []
        for _ in range(args.samples):  # interleaved, so machine noise hits both alike
            bare.append(sample("bare", home))
            demo.append(sample("demo", home))
    b, d = statistics.median(bare), statistics.median(demo)
    print(f"bare Textual app, first paint: median {b * 1000:.0f} ms (min {min(bare) * 1000:.0f}, "
          f"max {max(bare) * 1000:.0f}) over {args.samples}")
    print(f"finops-tui demo, first paint:  median {d * 1000:.0f} ms (min {min(demo) * 1000:.0f}, "
          f"max {max(demo) * 1000:.0f}) over {args.samples}")
    ratio = d / b
    print(f"ratio: {ratio:.2f}x (target: within 3x) -> {'OK' if ratio <= 3 else 'OVER TARGET'}")
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
