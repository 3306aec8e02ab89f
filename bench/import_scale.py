"""Import and sweep-query speed at scale, against two baselines measured in the same run.

    python bench/import_scale.py [--rows 5000000] [--dir DIR] [--skip-pandas] [--cur-rows 1000000] [--cur-only]

Generates a deterministic FOCUS Parquet file with a real bill's shape (bench/focus_data.py: 90 days of
daily billing for most services, 60 accounts, thousands of distinct tag sets with about 30% of resources
missing ``team`` and variant key spellings, Savings Plan columns; ``--simple``: the older generator with
400k resources and 217 tag sets), then measures, each step in its own process so that its peak RSS is its own:

- import: ``storage.sources.files.import_files`` into an empty cost store (stage, validate, tags, swap);
- bare load: DuckDB's ``CREATE TABLE ... AS SELECT * FROM read_parquet(...)`` into an empty file;
- five sweep-shaped queries in one warm process (allocation coverage overall and by account, top 20
  unallocated resources, daily cost per service, daily commitment coverage). This is NOT the sweep command,
  which runs about 35 statements plus pandas and the records: bench/rituals_scale.py times the real cold
  commands against a replay of their own SQL;
- naive pandas: the same five answers from pandas, parsing each distinct Tags value once.

Targets (issue 4): import within 1.5x of the bare load; queries within 1.5 s and 600 MB peak RSS;
20M rows import within 4 GB RSS. Prints each figure and ratio.

Then the AWS CUR paths (issue 18), on one generated report of ``--cur-rows`` line items (usage, Savings Plan
covered usage and negations, tax; four tag keys with variant spellings, a cost category) written in four
deliveries: CUR 2.0 Parquet (``resource_tags``, ``product``, ``cost_category`` maps) against the legacy
CUR's Athena Parquet (``resource_tags_user_*`` columns), and CUR 2.0 CSV.gz (maps as JSON text) against the
legacy CSV.gz (``lineItem/`` and ``resourceTags/user:`` names). Each import runs in its own process into an
empty store; the legacy path should be no slower than CUR 2.0 (ratio <= 1.0, allowing timing noise).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

GENERATE = """
COPY (
  WITH r AS (SELECT i, hash(i) AS h, hash(i * 7 + 3) AS h2,
             CAST(i % {res} AS BIGINT) AS res FROM range({rows}) t(i))
  SELECT
    TIMESTAMP '2026-08-01' + INTERVAL (CAST(i % 90 AS INTEGER)) DAY AS ChargePeriodStart,
    TIMESTAMP '2026-08-01' + INTERVAL (CAST(i % 90 AS INTEGER) + 1) DAY AS ChargePeriodEnd,
    date_trunc('month', TIMESTAMP '2026-08-01' + INTERVAL (CAST(i % 90 AS INTEGER)) DAY) AS BillingPeriodStart,
    date_trunc('month', TIMESTAMP '2026-08-01' + INTERVAL (CAST(i % 90 AS INTEGER)) DAY) + INTERVAL 1 MONTH
      AS BillingPeriodEnd,
    'payer-' || CAST(res % 2 AS VARCHAR) AS BillingAccountId,
    'USD' AS BillingCurrency,
    'AWS' AS ProviderName,
    'AWS' AS PublisherName,
    'AWS' AS InvoiceIssuerName,
    'Acme' AS BillingAccountName,
    CAST(NULL AS VARCHAR) AS ChargeClass,
    'usage' AS ChargeDescription,
    'Compute' AS ServiceCategory,
    1.0 AS PricingQuantity,
    'Hours' AS PricingUnit,
    CASE WHEN h % 50 = 0 THEN 'Tax' ELSE 'Usage' END AS ChargeCategory,
    CASE WHEN h2 % 10 < 4 THEN 'Committed' ELSE 'Standard' END AS PricingCategory,
    'service-' || CAST(res % 150 AS VARCHAR) AS ServiceName,
    lpad(CAST(100000000000 + res % 60 AS VARCHAR), 12, '0') AS SubAccountId,
    'us-east-' || CAST(res % 4 AS VARCHAR) AS RegionId,
    'arn:aws:ec2:us-east-1:acct:instance/i-' || lpad(CAST(res AS VARCHAR), 8, '0') AS ResourceId,
    round((h % 100000) / 10000.0, 4) AS ListCost,
    round((h % 100000) / 10000.0, 4) AS ContractedCost,
    round((h % 100000) / 10000.0 * CASE WHEN h2 % 10 < 4 THEN 0.72 ELSE 1 END, 4) AS EffectiveCost,
    round((h % 100000) / 10000.0 * CASE WHEN h2 % 10 < 4 THEN 0 ELSE 1 END, 4) AS BilledCost,
    CASE
      WHEN res % 100 < 35 THEN '{{"env": "prod", "owner": "o' || CAST(res % 97 AS VARCHAR) || '"}}'
      ELSE '{{"' || (['team', 'Team', ' team', 'TEAM'])[CAST(res % 4 AS INTEGER) + 1] || '": "t'
           || CAST(res % 40 AS VARCHAR) || '", "' || (['environment', 'env', 'Environment'])[CAST(res % 3 AS INTEGER) + 1]
           || '": "' || (['prod', 'dev', 'staging'])[CAST(res % 3 AS INTEGER) + 1] || '", "CostCenter": "cc'
           || CAST(res % 12 AS VARCHAR) || '"}}'
    END AS Tags
  FROM r
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
"""

STEP_IMPORT = """
import json, resource, sys, time
import duckdb, pandas  # loaded before the clock starts, as in the app
from pathlib import Path
from storage.config import load_config
from storage.costs import CostStore
from storage.sources.files import import_files
store = CostStore(Path(sys.argv[2]), load_config(None).taxonomy)
t = time.perf_counter()
result = import_files(store, [sys.argv[1]])
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": result.load.rows}))
"""

STEP_BARE = """
import json, resource, sys, time, duckdb
t = time.perf_counter()
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE line_items AS SELECT * FROM read_parquet(?)", [sys.argv[1]])
con.close()
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
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


def bench_cur(work: Path, rows: int) -> None:
    t = time.perf_counter()
    paths = cur_deliveries(work, rows)
    print(f"CUR reports: {rows:,} line items in 4 deliveries ({time.perf_counter() - t:.1f} s to write or find)")
    results = {}
    for key, path in paths.items():
        for f in work.glob("cur_store*.duckdb*"):
            f.unlink()
        results[key] = step(STEP_IMPORT, str(path), str(work / "cur_store.duckdb"))
        assert results[key]["rows"] >= rows, (key, results[key])
        print(f"  import {key:<24} {results[key]['seconds']:7.2f} s  {results[key]['rss_mb']:7.0f} MB peak RSS  "
              f"{path.stat().st_size / 1e6:7.0f} MB file")
    for fmt in ("parquet", "csv.gz"):
        legacy = results["legacy-athena.parquet" if fmt == "parquet" else "legacy.csv.gz"]["seconds"]
        print(f"  legacy CUR / CUR 2.0, {fmt:<8} {legacy / results['cur2.' + fmt]['seconds']:.2f}x time "
              "(target <= 1.0: the legacy path is no slower)")


def step(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"step failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000, help="rows to generate (default 5,000,000)")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--skip-pandas", action="store_true", help="skip the naive pandas baseline")
    ap.add_argument("--simple", action="store_true",
                    help="the old generator (400k resources, 217 tag sets) instead of bench/focus_data.py's")
    ap.add_argument("--cur-rows", type=int, default=1_000_000,
                    help="line items of the CUR 2.0 / legacy CUR comparison (default 1,000,000; 0 skips it)")
    ap.add_argument("--cur-only", action="store_true", help="run only the CUR 2.0 / legacy CUR comparison")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="finops-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.cur_only:
        bench_cur(work, args.cur_rows)
        print(f"work folder: {work}")
        return
    data = work / f"focus_{args.rows}{'_simple' if args.simple else ''}.parquet"
    if not data.exists():
        import duckdb

        t = time.perf_counter()
        if args.simple:
            duckdb.connect().execute(GENERATE.format(rows=args.rows, res=min(400_000, max(args.rows // 12, 1)),
                                                     path=data))
        else:
            import focus_data

            focus_data.generate(data, args.rows)
        print(f"generated {args.rows:,} rows ({data.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.1f} s")
    for f in work.glob("*.duckdb*"):
        f.unlink()
    store, bare = work / "costs.duckdb", work / "bare.duckdb"
    bare_r = step(STEP_BARE, str(data), str(bare))
    imp = step(STEP_IMPORT, str(data), str(store))
    assert imp["rows"] >= args.rows, imp
    qry = step(STEP_QUERIES, str(store))
    print(f"rows:                 {args.rows:,}")
    print(f"bare DuckDB load:     {bare_r['seconds']:7.2f} s  {bare_r['rss_mb']:7.0f} MB peak RSS")
    print(f"import:               {imp['seconds']:7.2f} s  {imp['rss_mb']:7.0f} MB peak RSS  "
          f"ratio to bare load {imp['seconds'] / bare_r['seconds']:.2f}x (target <= 1.5x"
          + (", RSS <= 4096 MB at 20M rows)" if args.rows >= 20_000_000 else ")"))
    print(f"5 sweep-shaped SQL:   {qry['seconds']:7.2f} s  {qry['rss_mb']:7.0f} MB peak RSS  "
          f"(targets <= 1.5 s, <= 600 MB)")
    print(f"  answers: {json.dumps(qry['answers'])}")
    if not args.skip_pandas:
        pd_r = step(STEP_PANDAS, str(data))
        print(f"naive pandas queries: {pd_r['seconds']:7.2f} s  {pd_r['rss_mb']:7.0f} MB peak RSS  "
              f"ratio to the 5 queries in DuckDB {pd_r['seconds'] / qry['seconds']:.1f}x time, "
              f"{pd_r['rss_mb'] / qry['rss_mb']:.1f}x memory")
        print(f"  answers: {json.dumps(pd_r['answers'])}")
    if args.cur_rows:
        bench_cur(work, args.cur_rows)
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
