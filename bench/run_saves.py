"""How long an autosave of a ritual note takes (rituals.runs.save_note in its own BEGIN IMMEDIATE write,
as the stepper does it) against a bare sqlite3 UPDATE of the same row, measured in the same run.

    python bench/run_saves.py [N]
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rituals import runs
from storage.db import Records


def main(n: int = 300) -> None:
    folder = Path(tempfile.mkdtemp())
    records = Records.at(folder / "records.sqlite")
    now = datetime(2026, 11, 27, tzinfo=UTC)
    with records.write() as s:
        run = runs.open_run(s, "monthly_review", "2026-10", None, now)
    ours = []
    for i in range(n):
        start = time.perf_counter()
        with records.write() as s:
            run = runs.save_note(s, run, "spend", "note " * 40 + str(i))
        ours.append(time.perf_counter() - start)
    records.dispose()
    conn = sqlite3.connect(folder / "records.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    bare = []
    for i in range(n):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE ritual_run SET notes = ?, version = version + 1 WHERE id = ?",
                     ('{"spend": "%s"}' % ("x" * 200 + str(i)), run.id))
        conn.execute("COMMIT")
        bare.append(time.perf_counter() - start)
    conn.close()
    for name, xs in (("save_note (records.write)", ours), ("bare sqlite3 UPDATE", bare)):
        xs = sorted(xs)
        print(f"{name:<28} median {statistics.median(xs) * 1000:7.2f} ms   p95 {xs[int(len(xs) * .95)] * 1000:7.2f} ms")
    print(f"ratio (median): {statistics.median(ours) / statistics.median(bare):.1f}x; "
          "autosave debounce: 0.5 s, so a note is stored within about 0.5 s + one save after the last key")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
