"""Commands stay light, checked on the installed `finops-tui` under ``python -X importtime``: `people list`,
`actions list` and `actions update` never import pandas, DuckDB, boto3 or Textual, even on a home whose cost
store exists; `showback`, `anomalies`, `sweep`, `commitments` and `import` open the cost store but never import
pandas.
Start-up time itself is measured by bench/startup.py and bench/rituals_scale.py, not here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")]

HEAVY = ("pandas", "numpy", "duckdb", "boto3", "botocore", "textual", "pyarrow", "statsmodels", "jinja2")


def imported(home: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the real console script under -X importtime; the top-level package of every module it imported."""
    assert EXE is not None
    env = {**os.environ, "FINOPS_TUI_TODAY": "2026-11-27", "FINOPS_TUI_USER": "ana"}
    out = subprocess.run([sys.executable, "-X", "importtime", EXE, "--home", str(home), *args],
                         capture_output=True, text=True, env=env, timeout=120)
    names = {line.rsplit("|", 1)[1].strip().split(".")[0]
             for line in out.stderr.splitlines() if line.startswith("import time:") and "|" in line}
    return out, names


def test_records_only_commands_never_import_the_heavy_libraries(tmp_path: Path) -> None:
    import duckdb

    home = tmp_path / "h"
    base = {**os.environ, "FINOPS_TUI_TODAY": "2026-11-27", "FINOPS_TUI_USER": "ana"}
    for args in (("people", "add", "ana", "Ana Lopez", "--role", "FinOps lead"),
                 ("actions", "add", "Tag the fleet", "--owner", "ana", "--due", "2026-12-04")):
        done = subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True, env=base, timeout=120)
        assert done.returncode == 0, done.stderr
    duckdb.connect(str(home / "costs.duckdb")).close()  # a cost store exists; these commands must not open it

    for args in (("people", "list"), ("actions", "list", "--json"),
                 ("actions", "update", "1", "--note", "started", "--status", "in_progress")):
        out, names = imported(home, *args)
        assert out.returncode == 0, out.stderr[-2000:]
        assert {"sqlmodel", "click", "storage"} <= names  # the importtime log was read (else the check is void)
        assert not names & set(HEAVY), f"{' '.join(args)} imported {sorted(names & set(HEAVY))}"
    listed, _ = imported(home, "actions", "list")
    assert "in_progress" in listed.stdout or "in progress" in listed.stdout


def test_showback_and_anomalies_read_the_cost_store_without_pandas(demo_home) -> None:
    """`showback --json` sums its lines in plain Python and `anomalies --json` detects on numpy arrays
    (DuckDB's fetchnumpy) and ranks root causes from plain rows: they open the cost store (DuckDB) and the
    records, but never import pandas (about a third of a second of a cold start). The anomalies run is a
    first one (the test's demo stores no cases): it detects, ranks the root causes and writes the cases."""
    import sqlite3
    out, names = imported(demo_home.path, "showback", "--json", "--month", "2026-10")
    assert out.returncode == 0, out.stderr[-2000:]
    assert {"duckdb", "sqlmodel", "rituals"} <= names
    assert not names & {"pandas", "numpy", "pyarrow", "textual"}, sorted(names & {"pandas", "numpy", "pyarrow"})
    assert '"month": "2026-10"' in out.stdout and '"teams"' in out.stdout
    with sqlite3.connect(demo_home.path / "records.sqlite") as db:
        assert db.execute("SELECT count(*) FROM anomaly_case").fetchone()[0] == 0
    out, names = imported(demo_home.path, "anomalies", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert {"duckdb", "numpy", "sqlmodel"} <= names
    assert not names & {"pandas", "pyarrow", "textual"}, sorted(names & {"pandas", "pyarrow", "textual"})
    assert '"root_causes"' in out.stdout and '"contribution"' in out.stdout
    with sqlite3.connect(demo_home.path / "records.sqlite") as db:
        assert db.execute("SELECT count(*) FROM anomaly_case WHERE root_causes != '[]'").fetchone()[0] > 0


def test_the_sweep_reads_the_cost_store_without_pandas(demo_home) -> None:
    """`sweep --json` computes every figure (coverage, leaks, resources, variants, clusters, fix checks)
    from plain rows: it opens the cost store and the records but never imports pandas or numpy."""
    out, names = imported(demo_home.path, "sweep", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert {"duckdb", "sqlmodel", "rituals"} <= names
    assert not names & {"pandas", "numpy", "pyarrow", "textual"}, sorted(names & {"pandas", "numpy", "pyarrow"})
    sweep = json.loads(out.stdout)
    # The demo's week has every part of the sweep: the check above covers each one's code path.
    assert sweep["by_account"] and sweep["by_service"] and sweep["top_unallocated"] and sweep["variants"]
    assert sweep["clusters"] and sweep["cluster_namespaces"] and sweep["trend"][-1]["total_cost"] > 0


def test_the_commitment_review_reads_the_cost_store_without_pandas(demo_home) -> None:
    """`commitments --json` sums its coverage, utilisation, programs and plan from plain rows (the usage at
    the review's grain, the stored terms, AWS's figures, the contracts): it never imports pandas."""
    out, names = imported(demo_home.path, "commitments", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert {"duckdb", "sqlmodel", "rituals"} <= names
    assert not names & {"pandas", "pyarrow", "textual"}, sorted(names & {"pandas", "pyarrow", "textual"})
    review = json.loads(out.stdout)
    # The demo's window has every part the figures come from: usage, terms and programs.
    assert review["coverage_pct"] is not None and review["programs"] and review["inventory"] and review["daily"]


def test_importing_a_focus_file_never_imports_pandas(tmp_path: Path) -> None:
    """`import` of a FOCUS CSV and of the same rows as Parquet reads, checks, folds tags and swaps in SQL: the
    summary of what it wrote comes from plain rows, so neither import pays for pandas."""
    import duckdb

    from tests.unit.test_import_bad_input import focus_csv

    rows = [f'acct-1,sub-{i % 3},AWS,Amazon EC2,"{{""Team"": ""web"", ""env"": ""prod""}}"' for i in range(30)]
    csv_file = tmp_path / "bill.csv"
    csv_file.write_text(focus_csv("BillingAccountId,SubAccountId,ProviderName,ServiceName,Tags", rows))
    parquet = tmp_path / "bill.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{csv_file}', all_varchar = true)) TO '{parquet}' "
                             "(FORMAT parquet)")
    for source in (csv_file, parquet):
        out, names = imported(tmp_path / f"home-{source.suffix[1:]}", "import", str(source), "--json")
        assert out.returncode == 0, out.stderr[-2000:]
        assert {"duckdb", "storage"} <= names
        assert not names & {"pandas", "numpy", "pyarrow"}, (source.name, sorted(names & {"pandas", "numpy"}))
        summary = json.loads(out.stdout)
        assert (summary["rows"], summary["accounts"], summary["currency"]) == (30, 3, "USD")
        assert summary["billing_periods"][0]["rows"] == 30 and summary["folded_tag_keys"]["team"] == ["Team"]
