"""The first anomaly run on a large store: detection plus root causes for every case, against the floor.

A generated store (random costs per row, with a step in spend injected into some services,
accounts and resources so there are cases to explain) is imported once. Then, each in a cold process:

- **ours**: what `finops-tui anomalies` does on its first run before writing cases: the series query,
  ``detect`` and ``attach_root_causes`` for every case found (timed per phase);
- **floor**: the same store queries alone: the series query and one scan summing the measured rows at the
  root-cause grain over the cases' windows (what any implementation must read), over the line items
  (``FINOPS_TUI_ROLLUP=off``: the series as the first run read them before the daily rollup).

    python bench/anomaly_root_causes.py [--rows 1000000]

Target (issue 29): ours within 3x of the floor at 1M and 5M rows. Before the root causes moved into one
store query, this phase took 80 s at 1M rows and 311 s at 5M (pandas masking the whole frame per case).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


# Noisy on purpose: every row's cost is drawn at random, so over a thousand series alarm and the root-cause
# phase has many cases to explain (bench/focus_data.py's realistic shape finds a few dozen).
NOISY = """
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


# Days 60-89 of the generated 90: a step in a tenth of the resources' spend, so the series of their
# services, accounts and the total alarm.
SPIKE = """
UPDATE line_items_data SET EffectiveCost = EffectiveCost * 4
WHERE ResourceId LIKE '%0' AND charge_date >= DATE '2026-08-01' + 60 AND charge_date < DATE '2026-08-01' + 75
"""

OURS = """
import json, resource, sys, time
from pathlib import Path
from storage.config import load_config
from storage.costs import CostStore
from rituals.anomalies import Thresholds, attach_root_causes, detect, load_series
store = CostStore(Path(sys.argv[1]), load_config(None).taxonomy)
t0 = time.perf_counter()
series = load_series(store, {})
t1 = time.perf_counter()
found = detect(series, Thresholds())
t2 = time.perf_counter()
attach_root_causes(store, {}, found)
t3 = time.perf_counter()
print(json.dumps({"seconds": t3 - t0, "series": t1 - t0, "detect": t2 - t1, "root_causes": t3 - t2,
                  "cases": len(found), "spans": [[a.start.isoformat(), a.end.isoformat()] for a in found],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FLOOR = """
import json, resource, sys, time
from pathlib import Path
from storage.config import load_config
from storage.costs import CostStore
from storage.cost_queries.anomalies import _base_sql
from storage.cost_queries.base import create_rules
from rituals.anomalies import load_series
spans = json.loads(sys.argv[2])
store = CostStore(Path(sys.argv[1]), load_config(None).taxonomy)
t0 = time.perf_counter()
load_series(store, {})
with store.reader() as con:
    create_rules(con, {})
    lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
    n = con.execute(f"SELECT count(*) FROM (SELECT day, account, service, region, resource, team, sum(cost) "
                    f"FROM ({_base_sql(con, store)}) WHERE day >= DATE '{lo}' - 28 AND day < DATE '{hi}' "
                    f"GROUP BY ALL)").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t0, "grain_rows": n,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def step(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3, help="cold runs of each side; medians are printed")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    import duckdb

    from storage import rollup
    from storage.config import load_config
    from storage.costs import CostStore
    from storage.sources.files import import_files

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        parquet = work / "items.parquet"
        duckdb.connect().execute(NOISY.format(rows=args.rows, res=max(1000, args.rows // 100), path=parquet))
        store_path = work / "costs.duckdb"
        t = time.perf_counter()
        store = CostStore(store_path, load_config(None).taxonomy)
        import_files(store, [parquet])
        con = duckdb.connect(str(store_path))
        con.execute("BEGIN TRANSACTION")
        con.execute(SPIKE)
        rollup.refresh(con, store)  # the spike is written behind the importer's back: sum the rollup again
        con.execute("COMMIT")
        con.close()
        print(f"{args.rows:,} rows imported in {time.perf_counter() - t:.1f} s")
        ours = [step(OURS, str(store_path)) for _ in range(args.runs)]
        spans = json.dumps(ours[0]["spans"])
        # The floor reads the line items, as the first run did before the daily rollup.
        floor = [step(FLOOR, str(store_path), spans, env={"FINOPS_TUI_ROLLUP": "off"}) for _ in range(args.runs)]

    def median(runs: list[dict], key: str) -> float:
        return sorted(r[key] for r in runs)[len(runs) // 2]

    o, f = median(ours, "seconds"), median(floor, "seconds")
    print(f"cases found: {ours[0]['cases']}; root-cause grain rows read: {floor[0]['grain_rows']:,}")
    print(f"ours : {o:6.2f} s (series {median(ours, 'series'):.2f}, detect {median(ours, 'detect'):.2f}, "
          f"root causes {median(ours, 'root_causes'):.2f}), peak {median(ours, 'rss_mb'):.0f} MB")
    print(f"floor: {f:6.2f} s, peak {median(floor, 'rss_mb'):.0f} MB")
    print(f"ours / floor = {o / f:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
