"""How long the commitment review's figures take on the demo company, against a naive baseline measured in
the same run: reading every line item into pandas and computing coverage and utilisation there.

    python bench/commitments.py [HOME]    (builds a demo home in a temporary folder when HOME is absent)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

AS_OF = date(2026, 11, 27)


def main() -> None:
    from rituals.commitment_review import review
    from rituals.commitments import eligible_services
    from storage.clock import Clock
    from storage.home import Home

    tmp = None
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
    else:
        from rituals.demo_company import build_demo

        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "demo"
        build_demo(path, AS_OF)
    home = Home(path, clock_override=Clock(AS_OF))
    rows = home.costs.info().rows
    review(home)  # warm imports and the file cache

    t = time.perf_counter()
    ours = review(home)
    ours_s = time.perf_counter() - t

    import pandas as pd

    t = time.perf_counter()
    frame = home.costs.query("SELECT * FROM line_items")
    last = frame[(frame["charge_date"] >= pd.Timestamp("2026-10-28")) & (frame["charge_date"] < pd.Timestamp(AS_OF))
                 & (frame["ChargeCategory"] == "Usage")]
    elig = last[last["ServiceName"].isin(set(eligible_services())) & (last["CommitmentDiscountStatus"] != "Unused")]
    cov = elig.loc[elig["PricingCategory"] == "Committed", "ListCost"].sum() / elig["ListCost"].sum() * 100
    used = last.loc[last["CommitmentDiscountStatus"] == "Used", "EffectiveCost"].sum()
    unused = last.loc[last["CommitmentDiscountStatus"] == "Unused", "EffectiveCost"].sum()
    naive_s = time.perf_counter() - t

    print(f"rows in the store:             {rows:,}")
    print(f"review (figures + plan):       {ours_s:.2f} s  coverage {ours['coverage_pct']:.2f}%  "
          f"utilization {ours['utilization_pct']:.2f}%")
    print(f"naive pandas (coverage only):  {naive_s:.2f} s  coverage {cov:.2f}%  "
          f"utilization {used / (used + unused) * 100:.2f}%")
    home.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
