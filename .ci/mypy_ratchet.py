"""mypy ratchet: the number of mypy errors in rituals, storage and exports may only fall.

Runs mypy with the settings of pyproject.toml ([tool.mypy]), counts its errors and compares the count with
.ci/mypy-baseline.txt. A count above the baseline fails and prints the errors that are not in the baseline;
a count below it passes and asks for the baseline to be lowered:

    python .ci/mypy_ratchet.py            check (what .ci/run does)
    python .ci/mypy_ratchet.py --update   write the current count and errors to the baseline

The baseline file holds the count and, below it, the errors without their line numbers, so that a rise can
name the new errors even after unrelated edits moved the old ones.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / ".ci" / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:\s][^:]*):(?P<line>\d+):(?:\d+:)? error: (?P<message>.*)$")
HEADER = """\
# mypy errors in rituals/, storage/ and exports/ at the settings of pyproject.toml [tool.mypy].
# .ci/mypy_ratchet.py fails when the count rises. When it falls, lower it: python .ci/mypy_ratchet.py --update
"""


def run_mypy() -> list[str]:
    """mypy's error lines (notes dropped), in mypy's order."""
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary", "--show-error-codes",
         "--no-color-output", "--hide-error-context"],
        cwd=ROOT, capture_output=True, text=True,
    )
    if proc.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"mypy_ratchet: mypy exited with {proc.returncode}")
    return [line for line in proc.stdout.splitlines() if ERROR.match(line)]


def key(line: str) -> str:
    """An error without its line number: stays the same when edits elsewhere in the file move it."""
    m = ERROR.match(line)
    assert m is not None
    return f"{m['path']}: {m['message']}"


def read_baseline() -> tuple[int, list[str]]:
    count: int | None = None
    known: list[str] = []
    for raw in BASELINE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if count is None:
            count = int(line)
        else:
            known.append(line)
    if count is None:
        raise SystemExit(f"mypy_ratchet: no count in {BASELINE.relative_to(ROOT)}")
    return count, known


def write_baseline(errors: list[str]) -> None:
    body = "\n".join(sorted(key(e) for e in errors))
    BASELINE.write_text(f"{HEADER}{len(errors)}\n{body}\n" if body else f"{HEADER}0\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the current errors as the baseline")
    args = parser.parse_args(argv)

    errors = run_mypy()
    rel = BASELINE.relative_to(ROOT)
    if args.update:
        write_baseline(errors)
        print(f"mypy_ratchet: wrote {len(errors)} errors to {rel}")
        return 0

    baseline, known = read_baseline()
    count = len(errors)
    if count > baseline:
        unmatched = Counter(known)
        new = []
        for line in errors:
            if unmatched[key(line)] > 0:
                unmatched[key(line)] -= 1
            else:
                new.append(line)
        print(f"mypy_ratchet: FAILED: {count} mypy errors, the baseline in {rel} allows {baseline}.")
        print("Errors not in the baseline (fix them; the count may only fall):")
        for line in new or errors:
            print(f"  {line}")
        return 1
    if count < baseline:
        print(f"mypy_ratchet: {count} mypy errors, below the baseline of {baseline}: lower it with")
        print(f"  python .ci/mypy_ratchet.py --update   and commit {rel}")
        return 0
    print(f"mypy_ratchet: {count} mypy errors, as in the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
