"""Import speed at scale: the real cold ``finops-tui import`` against DuckDB's bare load of the same file.

    python bench/import_scale.py [--rows 1M,5M] [--cases csv,parquet,parquet-release] [--samples 1] [--dir DIR]
                                 [--queries] [--cur-rows 1000000] [--cur-only]

For each row count, deterministic FOCUS files of a real bill's shape are generated (bench/focus_data.py: 90
days of daily billing for most services, 60 accounts, thousands of distinct tag sets with about 30% of
resources missing ``team`` and variant key spellings, Savings Plan columns), as three cases:

- ``csv``: the file as CSV (every value text, as FOCUS exports deliver it);
- ``parquet``: the file as Parquet;
- ``parquet-release``: Parquet where resources also carry their Name and a fortnightly release tag, so the
  distinct Tags values number about 330k at 5M rows (focus_data's ``release_tags``).

Each case is timed, ``--samples`` times interleaved, as two cold processes, each the child of a small wrapper
reporting its wall time and the children's peak RSS (``getrusage(RUSAGE_CHILDREN)``):

- import: ``finops-tui --home HOME import FILE --json`` into a fresh home (the command a user runs: start-up,
  reading, checking, tag folding, the swap, the summary);
- bare load: a new Python process that opens a new DuckDB file and runs ``CREATE TABLE line_items AS SELECT *
  FROM read_csv(FILE)`` (DuckDB's own type detection) or ``read_parquet(FILE)``.

Printed per case: medians, the ratio import / bare load (target 1.5x) and both peak RSS (target: the CSV
import under 1 GB at 5M rows), and the CPU time (user + system) of both, which the machine's other work
disturbs less than the wall time. The import also builds the daily rollup, which the bare load does not:
after each import, ``finops-tui periods rollup`` rebuilds it in a cold process of its own, and its median
wall time is printed beside the ratio with the ratio the import would have without it (import minus that
command's time, its start-up included, over the bare load). The load average is printed at the start and
the end: the machine is shared.

``--queries`` also times five sweep-shaped queries in one warm process and a naive pandas baseline (parsing
each distinct Tags value once); that is NOT the sweep command: bench/rituals_scale.py times the real cold
commands against a replay of their own SQL.

Then the AWS CUR paths (issue 18), on one generated report of ``--cur-rows`` line items (usage, Savings Plan
covered usage and negations, tax; four tag keys with variant spellings, a cost category) written in four
deliveries: CUR 2.0 Parquet (``resource_tags``, ``product``, ``cost_category`` maps) against the legacy
CUR's Athena Parquet (``resource_tags_user_*`` columns), and CUR 2.0 CSV.gz (maps as JSON text) against the
legacy CSV.gz (``lineItem/`` and ``resourceTags/user:`` names). Each is the real cold import command into a
fresh home; the legacy path should be no slower than CUR 2.0 (ratio <= 1.0, allowing timing noise).
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
TODAY = "2026-10-30"  # the generated history is 2026-08-01 .. 2026-10-29

WRAP = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - t, "rc": r.returncode, "cpu": use.ru_utime + use.ru_stime,
                  "rss_mb": use.ru_maxrss / 1024,
                  "stdout": r.stdout[-4000:].decode(errors="replace"),
                  "stderr": r.stderr[-800:].decode(errors="replace")}))
"""

BARE = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[2])
reader = "read_parquet" if sys.argv[1].endswith(".parquet") else "read_csv"
con.execute(f"CREATE TABLE line_items AS SELECT * FROM {reader}(?)", [sys.argv[1]])
con.close()
"""

STEP_QUERIES = """
import json, resource, sys, time
import duckdb, pandas  # loaded before the clock starts, as in the app
from pathlib import Path
from storage.config import load_config
from storage.costs import CostStore
store = CostStore(Path(sys.argv[1]), load_config(None).taxonomy)
t = time.perf_counter()
with store.reader() as con:
    team = store.tag_expr(con, "team")
    usage = "ChargeCategory = 'Usage'"
    out = {
        "coverage": con.execute(f"SELECT sum(EffectiveCost) FILTER (WHERE {team} IS NOT NULL) / sum(EffectiveCost) "
                                f"FROM line_items WHERE {usage}").fetchone()[0],
        "by_account": len(con.execute(f"SELECT SubAccountId, sum(EffectiveCost) FILTER (WHERE {team} IS NOT NULL) "
                                      f"/ sum(EffectiveCost) FROM line_items WHERE {usage} GROUP BY 1").df()),
        "top_unallocated": len(con.execute(f"SELECT ResourceId, sum(EffectiveCost) AS c FROM line_items WHERE {usage} "
                                           f"AND {team} IS NULL GROUP BY 1 ORDER BY c DESC LIMIT 20").df()),
        "daily_service": len(con.execute("SELECT charge_date, ServiceName, sum(EffectiveCost) FROM line_items "
                                         "GROUP BY 1, 2").df()),
        "daily_commitment": len(con.execute(f"SELECT charge_date, sum(ListCost) FILTER (WHERE PricingCategory = "
                                            f"'Committed') / sum(ListCost) FROM line_items WHERE {usage} "
                                            "GROUP BY 1").df()),
    }
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "answers": out}))
"""

STEP_PANDAS = """
import json, resource, sys, time
import pandas as pd
import pyarrow  # loaded before the clock starts
t = time.perf_counter()
df = pd.read_parquet(sys.argv[1])
def team(raw):
    tags = json.loads(raw) if raw else {}
    for k, v in tags.items():
        if k.strip().lower() == "team" and v:
            return v
    return None
# Even a naive report parses each distinct Tags value once (a real bill repeats a few thousand tag sets).
parsed = {raw: team(raw) for raw in df["Tags"].dropna().unique()}
df["team"] = df["Tags"].map(parsed)
df["day"] = df["ChargePeriodStart"].dt.date
u = df[df["ChargeCategory"] == "Usage"]
alloc = u["team"].notna()
out = {
    "coverage": float(u.loc[alloc, "EffectiveCost"].sum() / u["EffectiveCost"].sum()),
    "by_account": len(u.groupby("SubAccountId").apply(lambda g: g.loc[g["team"].notna(), "EffectiveCost"].sum()
                                                      / g["EffectiveCost"].sum())),
    "top_unallocated": len(u[~alloc].groupby("ResourceId")["EffectiveCost"].sum().nlargest(20)),
    "daily_service": len(df.groupby(["day", "ServiceName"])["EffectiveCost"].sum()),
    "daily_commitment": len(u.groupby("day").apply(lambda g: g.loc[g["PricingCategory"] == "Committed", "ListCost"].sum()
                                                   / g["ListCost"].sum())),
}
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "answers": out}))
"""


CUR_BASE = """
CREATE TABLE base AS
WITH r AS (SELECT i, hash(i) AS h, hash(i * 7 + 3) AS h2, CAST(i % {res} AS BIGINT) AS res FROM range({rows}) t(i))
SELECT
  TIMESTAMP '2026-08-01' + INTERVAL (CAST(i % 90 AS INTEGER)) DAY AS start,
  CASE WHEN h % 50 = 0 THEN 'Tax' WHEN h2 % 10 < 3 THEN 'SavingsPlanCoveredUsage'
       WHEN h2 % 10 = 3 THEN 'SavingsPlanNegation' ELSE 'Usage' END AS type,
  'payer-' || CAST(res % 2 AS VARCHAR) AS payer,
  lpad(CAST(100000000000 + res % 60 AS VARCHAR), 12, '0') AS account,
  'service-' || CAST(res % 150 AS VARCHAR) AS code, 'Product ' || CAST(res % 150 AS VARCHAR) AS product_name,
  'us-east-' || CAST(res % 4 AS VARCHAR) AS region,
  'arn:aws:ec2:us-east-1:acct:instance/i-' || lpad(CAST(res AS VARCHAR), 8, '0') AS resource,
  'BoxUsage:m5.' || CAST(res % 5 AS VARCHAR) AS usage_type, 'RunInstances' AS operation,
  round((h % 100000) / 10000.0, 4) AS cost,
  CASE WHEN res % 100 < 35 THEN NULL ELSE 't' || CAST(res % 40 AS VARCHAR) END AS team,
  CASE WHEN res % 100 BETWEEN 30 AND 34 THEN 't' || CAST(res % 40 AS VARCHAR) END AS team_variant,
  (['prod', 'dev', 'staging'])[CAST(res % 3 AS INTEGER) + 1] AS env,
  'cc' || CAST(res % 12 AS VARCHAR) AS cc, 'user' || CAST(res % 5 AS VARCHAR) AS created_by,
  'bu' || CAST(res % 3 AS VARCHAR) AS unit
FROM r
"""
# the report's columns: (legacy slash name, SQL over base); CUR 2.0 and the Athena delivery use snake(name)
CUR_COLUMNS = [
    ("lineItem/UsageStartDate", "start"), ("lineItem/UsageEndDate", "start + INTERVAL 1 DAY"),
    ("bill/BillingPeriodStartDate", "date_trunc('month', start)"),
    ("bill/BillingPeriodEndDate", "date_trunc('month', start) + INTERVAL 1 MONTH"),
    ("bill/PayerAccountId", "payer"), ("lineItem/UsageAccountId", "account"), ("lineItem/LineItemType", "type"),
    ("lineItem/ProductCode", "code"), ("lineItem/ResourceId", "resource"), ("lineItem/UsageType", "usage_type"),
    ("lineItem/Operation", "operation"), ("lineItem/CurrencyCode", "'USD'"), ("product/regionCode", "region"),
    ("lineItem/UnblendedCost", "CASE WHEN type = 'SavingsPlanNegation' THEN -cost ELSE cost END"),
    ("pricing/publicOnDemandCost", "CASE WHEN type = 'Tax' THEN NULL ELSE cost END"),
    ("savingsPlan/SavingsPlanARN", "CASE WHEN type LIKE 'SavingsPlan%' THEN "
                                   "'arn:aws:savingsplans::1:savingsplan/sp-' || (hash(resource) % 5) END"),
    ("savingsPlan/SavingsPlanEffectiveCost", "CASE WHEN type = 'SavingsPlanCoveredUsage' THEN round(cost * 0.72, 4) END"),
]
CUR_TAGS = [("user:team", "team"), ("user:Team", "team_variant"), ("user:environment", "env"), ("user:CostCenter", "cc"),
            ("aws:createdBy", "created_by")]


def cur_deliveries(work: Path, rows: int) -> dict[str, Path]:
    """The same report as CUR 2.0 and legacy files, in Parquet and CSV.gz."""
    import duckdb

    sys.path.insert(0, str(ROOT))
    from storage.sources.cur_columns import snake

    def quote(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    paths = {k: work / f"cur_{rows}_{k}" for k in ("cur2.parquet", "legacy-athena.parquet", "cur2.csv.gz",
                                                   "legacy.csv.gz")}
    if all(p.exists() for p in paths.values()):
        return paths
    con = duckdb.connect()
    con.execute(CUR_BASE.format(rows=rows, res=min(400_000, max(rows // 12, 1))))
    entries = ", ".join(f"{{'k': '{k.replace(':', '_', 1)}', 'v': {v}}}" for k, v in CUR_TAGS)
    tag_map = (f"CASE WHEN len(list_filter([{entries}], lambda e: e.v IS NOT NULL)) > 0 THEN map_from_entries("
               f"list_filter([{entries}], lambda e: e.v IS NOT NULL)) END")
    cur2 = [f"{v} AS {snake(k)}" for k, v in CUR_COLUMNS]
    maps = {"resource_tags": tag_map, "product": "map {'product_name': product_name, 'region': region}",
            "cost_category": "map {'BusinessUnit': unit}"}
    cur2_maps = [f"{e} AS {n}" for n, e in maps.items()]
    as_json = [f"CAST(to_json({e}) AS VARCHAR) AS {n}" for n, e in maps.items()]  # how CUR 2.0 CSV holds maps
    legacy = [f"{v} AS {quote(k)}" for k, v in CUR_COLUMNS] + [
        f"{v} AS {quote('resourceTags/' + k)}" for k, v in CUR_TAGS] + [
        f"product_name AS {quote('product/ProductName')}", f"unit AS {quote('costCategory/BusinessUnit')}"]
    athena = [f"{v} AS {snake(k)}" for k, v in CUR_COLUMNS] + [
        f"{v} AS {snake('resourceTags/' + k)}" for k, v in CUR_TAGS if k not in ("user:team", "user:Team")] + [
        "coalesce(team, team_variant) AS resource_tags_user_team",  # Athena lower-cases: one column
        "product_name AS product_product_name", "unit AS cost_category_business_unit"]
    selects = {"cur2.parquet": cur2 + cur2_maps, "legacy-athena.parquet": athena, "cur2.csv.gz": cur2 + as_json,
               "legacy.csv.gz": legacy}
    for key, cols in selects.items():
        fmt = "(FORMAT parquet, ROW_GROUP_SIZE 122880)" if key.endswith("parquet") else "(FORMAT csv, HEADER)"
        con.execute(f"COPY (SELECT {', '.join(cols)} FROM base) TO '{paths[key]}' {fmt}")
    _restore_case_variants(paths["legacy.csv.gz"])
    return paths


def _restore_case_variants(path: Path) -> None:
    """DuckDB writes a second column differing only in case as ``..._1``; AWS writes both spellings."""
    import gzip
    import shutil

    tmp = path.with_suffix(".tmp")
    with gzip.open(path, "rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
        header = src.readline().decode()
        dst.write(header.replace("resourceTags/user:Team_1", "resourceTags/user:Team").encode())
        shutil.copyfileobj(src, dst, 1 << 20)
    tmp.replace(path)


def run_import(work: Path, path: Path, env: dict[str, str], name: str = "home") -> dict:
    """The real cold import command into a fresh home: wall time, children's peak RSS, rows stored."""
    home = work / name
    shutil.rmtree(home, ignore_errors=True)
    r = wrapped([EXE, "--home", str(home), "import", str(path), "--json"], env)
    r["rows"] = json.loads(r["stdout"])["rows"]
    return r


def run_bare(work: Path, path: Path, env: dict[str, str]) -> dict:
    bare = work / "bare.duckdb"
    for f in work.glob("bare.duckdb*"):
        f.unlink()
    r = wrapped([sys.executable, "-c", BARE, str(path), str(bare)], env)
    for f in work.glob("bare.duckdb*"):
        f.unlink()
    return r


def bench_cur(work: Path, rows: int, env: dict[str, str]) -> None:
    t = time.perf_counter()
    paths = cur_deliveries(work, rows)
    print(f"CUR reports: {rows:,} line items in 4 deliveries ({time.perf_counter() - t:.1f} s to write or find)")
    results = {}
    for key, path in paths.items():
        results[key] = run_import(work, path, env, "cur_home")
        assert results[key]["rows"] >= rows, (key, results[key])
        print(f"  import {key:<24} {results[key]['seconds']:7.2f} s  {results[key]['rss_mb']:7.0f} MB peak RSS  "
              f"{path.stat().st_size / 1e6:7.0f} MB file")
    shutil.rmtree(work / "cur_home", ignore_errors=True)
    for fmt in ("parquet", "csv.gz"):
        legacy = results["legacy-athena.parquet" if fmt == "parquet" else "legacy.csv.gz"]["seconds"]
        print(f"  legacy CUR / CUR 2.0, {fmt:<8} {legacy / results['cur2.' + fmt]['seconds']:.2f}x time "
              "(target <= 1.0: the legacy path is no slower)")


def wrapped(cmd: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=3600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result['rc']}):\n{result['stderr']}")
    return result


def step(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"step failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_rows(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


CASES = ("csv", "parquet", "parquet-release")


def case_file(work: Path, rows: int, case: str) -> Path:
    """The case's file, generated once into the work folder (the CSV is the Parquet file's rows as text)."""
    import duckdb
    import focus_data

    release = case == "parquet-release"
    parquet = work / f"focus_{rows}{'_release' if release else ''}.parquet"
    if not parquet.exists():
        t = time.perf_counter()
        n = focus_data.generate(parquet, rows, release_tags=release)
        print(f"generated {n:,} rows, {focus_data.distinct_tag_sets(parquet):,} distinct Tags values "
              f"({parquet.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.1f} s", flush=True)
    if case != "csv":
        return parquet
    csv = work / f"focus_{rows}.csv"
    if not csv.exists():
        duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{csv}' (FORMAT csv, HEADER)")
        print(f"wrote {csv.name} ({csv.stat().st_size / 1e6:,.0f} MB)", flush=True)
    return csv


def bench_case(work: Path, rows: int, case: str, samples: int, env: dict[str, str]) -> dict:
    path = case_file(work, rows, case)
    imp, bare, roll = [], [], []
    for _ in range(samples):  # interleaved: machine noise hits both alike
        bare.append(run_bare(work, path, env))
        imp.append(run_import(work, path, env))
        assert imp[-1]["rows"] >= rows, imp[-1]
        roll.append(wrapped([EXE, "--home", str(work / "home"), "periods", "rollup"], env))
    i = statistics.median(r["seconds"] for r in imp)
    b = statistics.median(r["seconds"] for r in bare)
    r_s = statistics.median(r["seconds"] for r in roll)
    ci, cb = statistics.median(r["cpu"] for r in imp), statistics.median(r["cpu"] for r in bare)
    rss_i, rss_b = max(r["rss_mb"] for r in imp), max(r["rss_mb"] for r in bare)
    print(f"{rows:>11,} {case:16s} {i:8.2f}s {b:8.2f}s {i / b:6.2f}x  {rss_i:7.0f}MB {rss_b:7.0f}MB "
          f"{ci:7.1f}s {cb:7.1f}s {ci / cb:5.2f}x  {r_s:6.2f}s {(i - r_s) / b:6.2f}x", flush=True)
    return {"rows": rows, "case": case, "import_seconds": i, "bare_seconds": b, "ratio": i / b,
            "import_rss_mb": rss_i, "bare_rss_mb": rss_b, "import_cpu": ci, "bare_cpu": cb,
            "rollup_seconds": r_s, "ratio_without_rollup": (i - r_s) / b,
            "import_samples": [r["seconds"] for r in imp], "bare_samples": [r["seconds"] for r in bare],
            "rollup_samples": [r["seconds"] for r in roll]}


def bench_queries(work: Path, rows: int, skip_pandas: bool) -> None:
    data = case_file(work, rows, "parquet")
    qry = step(STEP_QUERIES, str(work / "home" / "costs.duckdb"))
    print(f"5 sweep-shaped SQL (warm, not the command): {qry['seconds']:7.2f} s  {qry['rss_mb']:7.0f} MB peak RSS")
    print(f"  answers: {json.dumps(qry['answers'])}")
    if not skip_pandas:
        pd_r = step(STEP_PANDAS, str(data))
        print(f"naive pandas queries: {pd_r['seconds']:7.2f} s  {pd_r['rss_mb']:7.0f} MB peak RSS  "
              f"ratio to the 5 queries in DuckDB {pd_r['seconds'] / qry['seconds']:.1f}x time, "
              f"{pd_r['rss_mb'] / qry['rss_mb']:.1f}x memory")
        print(f"  answers: {json.dumps(pd_r['answers'])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="1M,5M", help="row counts, comma separated (default 1M,5M; 20M with care)")
    ap.add_argument("--cases", default=",".join(CASES), help=f"of: {', '.join(CASES)} (default all)")
    ap.add_argument("--samples", type=int, default=1, help="interleaved runs of each side (medians printed)")
    ap.add_argument("--dir", type=Path, default=None, help="work folder, kept (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files (default: delete them at the end)")
    ap.add_argument("--queries", action="store_true",
                    help="also the five sweep-shaped queries (warm, one process) and naive pandas, on the last size")
    ap.add_argument("--skip-pandas", action="store_true", help="with --queries: skip the naive pandas baseline")
    ap.add_argument("--cur-rows", type=int, default=0,
                    help="line items of the CUR 2.0 / legacy CUR comparison (default 0: skipped; 1000000 as before)")
    ap.add_argument("--cur-only", action="store_true", help="run only the CUR 2.0 / legacy CUR comparison")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if any(c not in CASES for c in cases):
        ap.error(f"unknown case; use of: {', '.join(CASES)}")
    work = args.dir or Path(tempfile.mkdtemp(prefix="finops-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FINOPS_TUI_TODAY": TODAY}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs: with compiled bytecode
    env.setdefault("PYTHONPYCACHEPREFIX", str(work / "pycache"))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus: {os.cpu_count()}")
    if args.cur_only:
        bench_cur(work, args.cur_rows or 1_000_000, env)
        print(f"work folder: {work}")
        return
    wrapped([EXE, "--help"], env)  # compiles the bytecode before the timed runs
    print(f"{'rows':>11} {'case':16s} {'import':>9s} {'bare':>9s} {'ratio':>7s}  {'RSS imp':>9s} {'RSS bare':>9s} "
          f"{'CPU imp':>8s} {'CPU bare':>8s} {'ratio':>6s}  {'rollup':>7s} {'w/o it':>7s}")
    figures = []
    sizes = [parse_rows(r) for r in args.rows.split(",")]
    for rows in sizes:
        for case in cases:
            figures.append(bench_case(work, rows, case, args.samples, env))
    print("targets: import / bare load <= 1.5x; CSV import under 1 GB at 5M rows. rollup: `periods rollup` alone "
          "(cold); w/o it: (import - rollup) / bare")
    if args.queries:
        run_import(work, case_file(work, sizes[-1], "parquet"), env)
        bench_queries(work, sizes[-1], args.skip_pandas)
    if args.cur_rows:
        bench_cur(work, args.cur_rows, env)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; work folder: {work}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    if not args.keep:
        for f in [*work.glob("focus_*"), *work.glob("cur_*")]:
            f.unlink()
        shutil.rmtree(work / "home", ignore_errors=True)


if __name__ == "__main__":
    main()
