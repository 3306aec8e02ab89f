"""The ritual commands as a user runs them, cold, against the floor of the same SQL replayed cold.

    python bench/rituals_scale.py [--rows 1M] [--samples 3] [--dir DIR] [--commands sweep,kpis]
    python bench/rituals_scale.py --rows 5M          # also 20M, 100M (or any row count)

For each size: a FOCUS file of realistic shape (bench/focus_data.py: daily billing for most services,
thousands of distinct tag sets, Savings Plan columns) is generated, imported into a fresh home with the real
``finops-tui import``, and the teams that own the accounts are written into the records. Then for each
command (``finops-tui sweep --json``, ``anomalies --json``, ``commitments --json``, ``agenda monthly
--json``, ``showback --json``, ``kpis --json``):

- one run with FINOPS_TUI_SQL_LOG set and the daily rollup turned off (FINOPS_TUI_ROLLUP=off) captures every
  statement the command ran on the line items, as it did before rollups (this run also leaves what a first
  run leaves: the anomaly cases are synchronised, so the timed runs are repeat runs;
  bench/anomaly_root_causes.py times the first anomaly run);
- then, interleaved, ``--samples`` cold runs of the command (reading the rollup where it serves), of the
  command with the rollup off, and of the floor: a new Python process that imports DuckDB and replays the
  captured line-item statements on the same store file (opening a connection where the command opened one,
  fetching every result). The rollup may beat the floor.

Children run with bytecode caching on (PYTHONPYCACHEPREFIX in the work folder), as an installed package
does. Each run is a child of a small wrapper that reports its wall time and ``resource.getrusage(RUSAGE_CHILDREN)``
peak RSS. Printed: medians, the ratio command / floor (target 1.5x), the command without the rollup and the command's peak RSS (target 600 MB
at 5M rows, 4 GB at 20M). The load average is printed at the start and the end: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
EXE = str(Path(sys.executable).with_name("finops-tui"))
TODAY = "2026-10-30"  # the generated history is 2026-08-01 .. 2026-10-29

COMMANDS: dict[str, list[str]] = {
    "sweep": ["sweep", "--json"],
    "anomalies": ["anomalies", "--json"],
    "commitments": ["commitments", "--json"],
    "agenda monthly": ["agenda", "monthly", "--json"],
    "showback": ["showback", "--json"],
    "kpis": ["kpis", "--json"],
}

WRAP = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
print(json.dumps({"seconds": time.perf_counter() - t, "rc": r.returncode,
                  "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "stderr": r.stderr[-800:].decode(errors="replace")}))
"""

FLOOR = r"""
import json, sys
import duckdb
from storage.sql_log import decode
con, skipped, ran = None, 0, 0
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if "connect" in e:
        if con is not None:
            con.close()
        con = duckdb.connect(e["connect"], read_only=True)
        continue
    if "register" in e:
        skipped += 1
        continue
    try:
        if "many" in e:
            con.executemany(e["sql"], decode(e["many"]))
        else:
            params = decode(e["params"])
            result = con.execute(e["sql"]) if params is None else con.execute(e["sql"], params)
            if result.description:
                result.fetchnumpy()
        ran += 1
    except duckdb.Error:
        skipped += 1  # a statement over a frame the command registered from Python
if con is not None:
    con.close()
print(json.dumps({"ran": ran, "skipped": skipped}), file=sys.stderr)
"""


def parse_rows(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


def wrapped(cmd: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=3600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] not in (0, 1):  # 1: a --check style "findings need attention" exit is still a run
        raise SystemExit(f"{' '.join(cmd)} failed ({result['rc']}):\n{result['stderr']}")
    return result


def build_home(work: Path, rows: int, env: dict[str, str]) -> Path:
    import focus_data

    data = work / f"focus_{rows}.parquet"
    if not data.exists():
        t = time.perf_counter()
        n = focus_data.generate(data, rows)
        print(f"generated {n:,} rows, {focus_data.distinct_tag_sets(data):,} distinct tag sets "
              f"({data.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.1f} s")
    home = work / f"home_{rows}"
    if not (home / "costs.duckdb").exists():
        shutil.rmtree(home, ignore_errors=True)
        r = wrapped([EXE, "--home", str(home), "import", str(data)], env)
        print(f"finops-tui import: {r['seconds']:.1f} s, {r['rss_mb']:,.0f} MB peak RSS")
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
                        f"import focus_data; focus_data.write_records(__import__('pathlib').Path({str(home)!r}))"],
                       check=True, cwd=ROOT, env=env)
    return home


def ms(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s"


def bench_size(work: Path, rows: int, samples: int, commands: list[str], env: dict[str, str]) -> list[dict]:
    home = build_home(work, rows, env)
    print(f"\n{rows:,} rows (home {home}), {samples} samples, medians:")
    print(f"{'command':16s} {'command':>8s} {'no rollup':>9s} {'floor':>8s} {'ratio':>6s}  {'RSS cmd':>8s} "
          f"{'RSS floor':>9s}  statements")
    out = []
    for name in commands:
        args = COMMANDS[name]
        log = work / f"sql_{rows}_{name.replace(' ', '_')}.jsonl"
        log.unlink(missing_ok=True)
        off = {**env, "FINOPS_TUI_ROLLUP": "off"}
        wrapped([EXE, "--home", str(home), *args], {**off, "FINOPS_TUI_SQL_LOG": str(log)})
        statements = sum(1 for line in log.open() if '"sql"' in line)
        connections = sum(1 for line in log.open() if '"connect"' in line)
        cmd, floor, plain = [], [], []
        for _ in range(samples):  # interleaved: machine noise hits all alike
            cmd.append(wrapped([EXE, "--home", str(home), *args], env))
            plain.append(wrapped([EXE, "--home", str(home), *args], off))
            floor.append(wrapped([sys.executable, "-c", FLOOR, str(log)], env))
        skipped = json.loads(floor[-1]["stderr"].strip().splitlines()[-1])["skipped"]
        c = statistics.median(r["seconds"] for r in cmd)
        f = statistics.median(r["seconds"] for r in floor)
        p = statistics.median(r["seconds"] for r in plain)
        rss_c = max(r["rss_mb"] for r in cmd)
        rss_f = max(r["rss_mb"] for r in floor)
        note = f"{statements} over {connections} connections" + (f", {skipped} not replayable" if skipped else "")
        print(f"{name:16s} {c:7.2f}s {p:8.2f}s {f:7.2f}s {c / f:5.2f}x  {rss_c:6.0f}MB {rss_f:7.0f}MB  {note}",
              flush=True)
        out.append({"rows": rows, "command": name, "seconds": c, "no_rollup_seconds": p, "floor_seconds": f,
                    "ratio": c / f,
                    "rss_mb": rss_c, "floor_rss_mb": rss_f, "statements": statements, "connections": connections,
                    "samples": [r["seconds"] for r in cmd], "floor_samples": [r["seconds"] for r in floor]})
    return out


def install_note() -> str:
    """What the timed install imports at start-up that a user's may not: pandas imports pyarrow whenever it is
    installed (the test extra brings it; ``pip install finops-tui`` does not)."""
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        return "pyarrow not installed (as `pip install finops-tui` leaves it)"
    return ("pyarrow installed (the test extra), which pandas imports at start-up; run this script with the python "
            "of an install without it to time what `pip install finops-tui` gives")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1M", help="row counts, comma separated: 1M (default), 5M, 20M, 100M")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None, help="work folder, kept (default: a temporary one)")
    ap.add_argument("--commands", default=",".join(COMMANDS), help=f"of: {', '.join(COMMANDS)}")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = ap.parse_args()
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    unknown = [c for c in commands if c not in COMMANDS]
    if unknown:
        ap.error(f"unknown command(s): {', '.join(unknown)}")
    import tempfile

    work = args.dir or Path(tempfile.mkdtemp(prefix="finops-rituals-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FINOPS_TUI_TODAY": TODAY}
    env.pop("FINOPS_TUI_SQL_LOG", None)
    # As a user runs it: with compiled bytecode (an installed package has it; PYTHONDONTWRITEBYTECODE would
    # make every run compile the project's modules), kept in the work folder, not the checkout. The capture
    # run of each command compiles it before the timed runs.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(work / "pycache"))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus: {os.cpu_count()}")
    print(f"commands: {EXE}; {install_note()}")
    figures = []
    for rows in (parse_rows(r) for r in args.rows.split(",")):
        figures += bench_size(work, rows, args.samples, commands, env)
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; work folder: {work}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
