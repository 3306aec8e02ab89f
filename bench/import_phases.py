"""Where an import's time goes: every SQL statement of one real import, timed and grouped into phases, beside
DuckDB's bare load of the same file measured in the same run.

    python bench/import_phases.py [--rows 5M] [--case csv|parquet|parquet-release] [--samples 1] [--dir DIR]
                                  [--top 12] [--prior FILE]

The file is bench/import_scale.py's case file (generated once into ``--dir``). The import runs in this
process through ``storage.sources.files.import_files`` into a fresh home, the way ``finops-tui import`` calls
it, with the staging connection wrapped so that each ``execute`` is timed (the wrapper costs microseconds a
statement; an import runs about a hundred). The command's start-up (its imports, the home) is not in these
figures: bench/import_scale.py times the real cold command. The bare load is import_scale's: a cold process
running ``CREATE TABLE line_items AS SELECT * FROM read_csv(FILE)`` (or read_parquet) into a new DuckDB file.

Phases, by what the statement does:

- pre-pass: the one-pass CSV read that collects each timestamp column's distinct values, made only for a file
  whose timestamp columns are spelt in more than one way (storage.sources.files._type_maps);
- store pass: the INSERT that reads the file, types its values and writes the line items;
- tag fold: the folding of the distinct Tags values (the keys read from the rows written, for a CSV file read
  in one pass: their fold runs on a scratch connection, untimed here), the write of the tag sets and of the
  rows' tag columns;
- rollup: the daily rollup and the commitment rollup (storage.rollup);
- commit: the store's COMMIT;
- checks and the rest: the checking scans of the written rows, the summary, the schema and bookkeeping.

Printed: each phase's seconds (median over ``--samples``), the sum of the statements, the import's wall time
in this process, the bare load's, and the slowest statements of the last sample.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PHASES = ("pre-pass", "store pass", "tag fold", "rollup", "commit", "checks and the rest")


def phase(sql: str) -> str:
    text = " ".join(sql.split())
    if text.startswith("CREATE TABLE memory.pre_"):
        return "pre-pass"
    if text.startswith("INSERT INTO line_items_data"):
        return "store pass"
    if "rollup_daily" in text[:60] or "rollup_commitments" in text[:60]:
        return "rollup"
    if text == "COMMIT":
        return "commit"
    if "_fold_" in text[:80] or "tagmap" in text[:80] or text.startswith((
            "INSERT INTO tag_sets", "INSERT OR REPLACE INTO tag_sets", "COPY (SELECT DISTINCT",
            'UPDATE line_items_data SET "tag_')):
        return "tag fold"
    return "checks and the rest"


class Timed:
    """A DuckDB connection whose ``execute`` calls are timed into ``log``."""

    def __init__(self, con: Any, log: list[tuple[float, str]]) -> None:
        self._con = con
        self._log = log

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = self._con.execute(sql, *args, **kwargs)
        self._log.append((time.perf_counter() - start, sql))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def timed_import(path: Path, home_dir: Path, prior: Path | None = None) -> tuple[float, list[tuple[float, str]], int]:
    """One import of ``path`` into a fresh home (holding ``prior``, imported untimed first, if given): its wall
    time, its statements' times, its rows."""
    from storage import loader
    from storage.home import Home
    from storage.sources.files import import_files

    shutil.rmtree(home_dir, ignore_errors=True)
    home_dir.mkdir(parents=True)
    log: list[tuple[float, str]] = []
    original = loader.Staging.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.con = Timed(self.con, log)

    home = Home(home_dir)
    if prior is not None:
        import_files(home.costs, [prior], fallback_currency=home.config.currency)
    loader.Staging.__init__ = init  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        result = import_files(home.costs, [path], fallback_currency=home.config.currency)
        seconds = time.perf_counter() - start
    finally:
        loader.Staging.__init__ = original  # type: ignore[method-assign]
    return seconds, log, result.load.rows


def main() -> None:
    import import_scale

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="5M", help="rows of the generated file (default 5M)")
    ap.add_argument("--case", default="csv", choices=import_scale.CASES, help="which file (default csv)")
    ap.add_argument("--samples", type=int, default=1, help="imports and bare loads, interleaved (medians printed)")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/finops-bench-phases"),
                    help="work folder; the generated file is kept there for the next run")
    ap.add_argument("--top", type=int, default=12, help="slowest statements listed (default 12)")
    ap.add_argument("--prior", type=Path, default=None,
                    help="a billing file imported (untimed) into the home first: the timed import is then a "
                         "later one, into a store holding rows (its billing accounts or periods should differ)")
    args = ap.parse_args()
    if args.samples < 1:
        ap.error("--samples must be at least 1")
    os.environ.setdefault("FINOPS_TUI_TODAY", import_scale.TODAY)
    work = args.dir
    work.mkdir(parents=True, exist_ok=True)
    rows = import_scale.parse_rows(args.rows)
    path = import_scale.case_file(work, rows, args.case)
    env = {**os.environ}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus: {os.cpu_count()}")
    walls, bares, per_phase, sums = [], [], {p: [] for p in PHASES}, []
    log: list[tuple[float, str]] = []
    for _ in range(args.samples):
        bares.append(import_scale.run_bare(work, path, env)["seconds"])
        seconds, log, stored = timed_import(path, work / "phases_home", args.prior)
        assert stored >= rows, stored
        walls.append(seconds)
        sums.append(sum(d for d, _s in log))
        for p in PHASES:
            per_phase[p].append(sum(d for d, s in log if phase(s) == p))
    bare = statistics.median(bares)
    into = f", into a home holding {args.prior}" if args.prior else ""
    print(f"{rows:,} rows, {args.case} ({path.stat().st_size / 1e6:,.0f} MB){into}, {args.samples} sample(s), medians:")
    for p in PHASES:
        print(f"  {p:22s} {statistics.median(per_phase[p]):7.2f} s")
    wall = statistics.median(walls)
    print(f"  {'statements':22s} {statistics.median(sums):7.2f} s")
    print(f"  {'import (in process)':22s} {wall:7.2f} s   {wall / bare:.2f}x the bare load")
    print(f"  {'bare load (cold)':22s} {bare:7.2f} s")
    print("slowest statements of the last sample:")
    for d, s in sorted(log, key=lambda x: -x[0])[:args.top]:
        print(f"  {d:7.2f} s  {phase(s):20s} {' '.join(s.split())[:90]}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    shutil.rmtree(work / "phases_home", ignore_errors=True)


if __name__ == "__main__":
    main()
