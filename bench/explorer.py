"""How long the explorer's figures take, against a baseline measured in the same run.

    python bench/explorer.py [--rows 5000000] [--dir DIR] [--skip-scale]

On the demo company (built in a temporary folder for 2026-11-27) and on a generated store of ``--rows``
line items (``bench/import_scale.py``'s deterministic FOCUS file, imported through the product), it times
``rituals.explorer.explore`` (demo: the records' account rules, currency, the one named query over the
window and the period before) and ``storage.cost_queries.explorer_costs`` (scale) for the views a meeting
asks for: by team; team x service, filtered and excluded, weekly; one drill-down to resources; a tag key
over 90 days; BilledCost by region and month over 6 months.

Baseline: the plainest DuckDB answer to the first view's window, ``SELECT SubAccountId, sum(EffectiveCost)
... GROUP BY 1``, on the same file in the same process, so the ratio says what the allocation, the filters
and the previous period cost on this machine today.

Targets (issue 24): each view under 0.5 s on the demo and under 2 s at 5M rows. Each figure is the median
of three runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

TODAY = date(2026, 11, 27)


def timed(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def views(taxonomy, start: date, end: date, drill_team: str, drill_service: str):  # type: ignore[no-untyped-def]
    from storage.config import build_view

    def v(**kw):  # type: ignore[no-untyped-def]
        base = {"filters": [], "excludes": [], "preset": "custom", "start": start, "end": end,
                "granularity": "day", "cost": "effective"}
        return build_view(**{**base, **kw}, taxonomy=taxonomy)

    return {
        "by team, 30 days": v(group_by=["team"]),
        "team x service, filtered, weekly": v(group_by=["team", "service"], filters=[f"team={drill_team}",
                                              "tag:environment=prod,(none)"], excludes=["charge_category=Tax"],
                                              granularity="week"),
        "drill: team > service > resource": v(group_by=["resource"], filters=[f"team={drill_team}",
                                              f"service={drill_service}"]),
        "tag:environment, 90 days": v(group_by=["tag:environment"], start=end - timedelta(days=90)),
        "BilledCost by region, monthly": v(group_by=["region"], granularity="month", cost="billed",
                                           start=end - timedelta(days=180)),
    }


def baseline(store, start: date, end: date) -> float:  # type: ignore[no-untyped-def]
    return timed(lambda: store.query("SELECT SubAccountId, sum(EffectiveCost) FROM line_items WHERE charge_date >= ? "
                                     "AND charge_date < ? GROUP BY 1", [start, end]))


def report(name: str, base: float, results: dict[str, float], target: float) -> None:
    print(f"{name}: baseline (plain GROUP BY account) {base:.3f} s")
    for label, seconds in results.items():
        ok = "ok" if seconds < target else "OVER TARGET"
        print(f"  {label:<36} {seconds:7.3f} s  {seconds / base:5.1f}x baseline  (target < {target} s: {ok})")


def bench_demo(work: Path) -> None:
    from rituals.demo_company import build_demo
    from rituals.explorer import explore
    from storage.clock import Clock
    from storage.home import Home

    path = work / "demo"
    if not path.exists():
        build_demo(path, TODAY)
    home = Home(path, None, clock_override=Clock(TODAY))
    try:
        start, end = TODAY - timedelta(days=30), TODAY
        vs = views(home.config.taxonomy, start, end, "platform", "Amazon CloudWatch")
        base = baseline(home.costs, start, end)
        report(f"demo ({home.costs.info().rows:,} rows)", base, {k: timed(lambda v=v: explore(home, v))
                                                                 for k, v in vs.items()}, 0.5)
    finally:
        home.close()


def bench_scale(work: Path, rows: int) -> None:
    from focus_data import generate

    from storage.config import load_config
    from storage.cost_queries import explorer_costs
    from storage.costs import CostStore

    data = work / f"focus_{rows}.parquet"
    if not data.exists():
        t = time.perf_counter()
        generate(data, rows)
        print(f"generated {rows:,} rows in {time.perf_counter() - t:.1f} s")
    path = work / f"costs_{rows}.duckdb"
    if not path.exists():
        t = time.perf_counter()
        from storage.sources.files import import_files

        import_files(CostStore(path, load_config(None).taxonomy), [data])
        print(f"imported in {time.perf_counter() - t:.1f} s")
    store = CostStore(path, load_config(None).taxonomy)
    # The generated data spans 2026-08-01 + 90 days; 60 accounts, a third of them owned by a team.
    end = date(2026, 10, 30)
    start = end - timedelta(days=30)
    rules = {f"{100000000000 + i:012d}": f"t{i % 40}" for i in range(0, 60, 3)}
    vs = views(store.taxonomy, start, end, "t7", "service-7")
    base = baseline(store, start, end)

    def run(v):  # type: ignore[no-untyped-def]
        from rituals.explorer import view_window

        previous, s, e = view_window(v, TODAY)
        return explorer_costs(store, rules, s, e, group_by=v.group_by, filters=v.filters, excludes=v.excludes,
                              cost=v.cost, granularity=v.granularity, previous_start=previous)

    report(f"generated store ({rows:,} rows)", base, {k: timed(lambda v=v: run(v)) for k, v in vs.items()}, 2.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000, help="rows of the generated store (default 5,000,000)")
    ap.add_argument("--dir", type=Path, default=None, help="work folder, reused between runs (default: temporary)")
    ap.add_argument("--skip-scale", action="store_true", help="only the demo")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="finops-bench-explorer-"))
    work.mkdir(parents=True, exist_ok=True)
    bench_demo(work)
    if not args.skip_scale:
        bench_scale(work, args.rows)
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
