"""``showbacks_from_lines`` reads the query's lines (one row per period x team x shared reason) in one pass
of plain Python: it equals the showbacks built period by period with pandas groups, as it was written before, on lines with
day and month periods given as timestamps or dates, missing teams and reasons (a shared row's team ignored), repeated keys, negative and
zero costs, in any row order, and with or without the billed totals by billing period."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rituals.showback import build_showback, month_key, showbacks_from_lines

TEAMS = ["checkout", "data", "ml-inference", "platform"]
COST = st.one_of(st.sampled_from([0.0, -3.25, 0.1, 1e6]), st.floats(-500, 5000, allow_nan=False))
ROW = st.tuples(st.one_of(st.integers(0, 3), st.integers(0, 40)), st.sampled_from([*TEAMS, None]),
                st.sampled_from([None, None, "shared_account", "support", "untaggable", "unallocated"]), COST, COST)


def by_period(lines: pd.DataFrame, currency: str, *, method: str, fixed_pct: dict[str, float], teams: list[str],
              billed: tuple[dict[date, float], str] | None = None) -> dict:
    """The showbacks period by period from pandas groups (the reference)."""
    out = {}
    for period, part in lines.groupby("period", sort=True):
        day = period.date() if hasattr(period, "date") else period
        direct_rows = part[part["reason"].isna()]
        direct = {str(t): float(c) for t, c in direct_rows.groupby("team")["cost"].sum().items()}
        shared_rows = part[part["reason"].notna()]
        shared = {str(r): float(c) for r, c in shared_rows.groupby("reason")["cost"].sum().items()}
        # Billed summed in row order (the lines' order, a period's rows kept in it), as the one pass sums it.
        total = sum(float(b) for b in part["billed"]) if billed is None else billed[0].get(day, 0.0)
        out[day] = build_showback(month_key(day), currency, direct, shared, total, method=method,
                                  fixed_pct=fixed_pct, teams=teams,
                                  billed_basis="charge_period" if billed is None else billed[1])
    if billed is not None:
        for day, amount in billed[0].items():
            if day not in out and amount:
                out[day] = build_showback(month_key(day), currency, {}, {}, amount, method=method,
                                          fixed_pct=fixed_pct, teams=teams, billed_basis=billed[1])
    return out


def frame(rows: list[tuple], timestamps: bool, months: bool) -> pd.DataFrame:
    start = date(2026, 5, 1)
    periods = [(date(2026 + (start.month + n - 1) // 12, (start.month + n - 1) % 12 + 1, 1) if months
                else start + timedelta(days=n)) for n, *_ in rows]
    out = pd.DataFrame({"period": periods, "team": [t for _, t, _, _, _ in rows],
                        "reason": [r for _, _, r, _, _ in rows], "cost": [float(c) for *_, c, _ in rows],
                        "billed": [float(b) for *_, b in rows]}, columns=["period", "team", "reason", "cost", "billed"])
    if timestamps:
        out["period"] = pd.to_datetime(out["period"])
    return out


def rows_of(lines: pd.DataFrame) -> list[tuple]:
    """The frame's rows as the query hands them over (tuples of period, team, reason, cost, billed)."""
    return list(lines.itertuples(index=False, name=None))


@settings(max_examples=150, deadline=None)
@given(st.lists(ROW, max_size=60), st.booleans(), st.booleans(), st.sampled_from(["proportional", "even", "fixed"]),
       st.booleans())
def test_one_pass_equals_the_showbacks_period_by_period(rows, timestamps, months, method, with_billed) -> None:
    lines = frame(rows, timestamps, months)
    fixed = {"checkout": 40.0, "data": 60.0}
    billed = None
    if with_billed:
        billed = ({date(2026, 5, 1): 120.5, date(2026, 6, 1): 0.0, date(2027, 1, 1): 7.0}, "billing_period")
    got = showbacks_from_lines(rows_of(lines), "USD", method=method, fixed_pct=fixed, teams=TEAMS, billed=billed)
    want = by_period(lines, "USD", method=method, fixed_pct=fixed, teams=TEAMS, billed=billed)
    assert list(got) == list(want)
    assert got == want


def test_an_example_with_a_repeated_key_and_a_period_of_shared_spend_only() -> None:
    lines = frame([(0, "data", None, 10.0, 11.0), (0, "data", None, 2.5, 2.5), (0, None, "support", 4.0, 4.0),
                   (1, None, "unallocated", 9.0, 9.5)], timestamps=True, months=False)
    got = showbacks_from_lines(rows_of(lines), "USD", method="proportional", fixed_pct={}, teams=["data"])
    assert list(got) == [date(2026, 5, 1), date(2026, 5, 2)]
    first, second = got[date(2026, 5, 1)], got[date(2026, 5, 2)]
    assert (first.team("data").direct, first.team("data").total, first.billed_total) == (12.5, 16.5, 17.5)
    assert first.shared_by_reason == {"support": 4.0}
    assert second.team("data").direct == 0.0 and second.total == 9.0 and second.billed_total == 9.5
