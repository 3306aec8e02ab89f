"""The weekend-running rule's column-wise selection (``rituals.waste.weekend_rows``) equals the rule read
row by row, as it is written in FINOPS-MODEL: a non-production resource whose weekend spend per day is at
least the level times its weekday spend per day, on frames with missing values, zero days, negative and
tied costs and environment spellings that fold alike."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rituals.tag_sweep import fold_value
from rituals.waste import weekend_rows

ENVS = st.sampled_from(["prod", "Prod ", "PROD", "production", "dev", "Dev", "staging", "", None])
COST = st.one_of(st.none(), st.sampled_from([0.0, -3.0, 10.0, 8.0]), st.floats(-50, 500, allow_nan=False))
DAYS = st.one_of(st.none(), st.integers(0, 5))


def by_row(frame: pd.DataFrame, prod: set[str], level: float) -> list[tuple]:
    out = []
    for r in frame.to_dict("records"):
        env = r["env"]
        if fold_value(str(env)) in prod or not r["weekdays"] or not r["weekend_days"] \
                or (isinstance(r["weekdays"], float) and math.isnan(r["weekdays"])):
            continue
        weekday = (0.0 if r["weekday_cost"] is None or math.isnan(r["weekday_cost"]) else r["weekday_cost"]) \
            / r["weekdays"]
        weekend = (0.0 if r["weekend_cost"] is None or math.isnan(r["weekend_cost"]) else r["weekend_cost"]) \
            / r["weekend_days"]
        if weekday > 0 and weekend >= level * weekday:
            out.append((r["resource_id"], r["account_id"], float(r["weekend_cost"])))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(ENVS, COST, COST, DAYS, DAYS), max_size=30), st.sampled_from([0.5, 0.8, 1.0]),
       st.sampled_from([["prod"], ["prod", "production"], ["dev"]]))
def test_the_column_wise_rule_equals_the_rule_row_by_row(rows, level, production) -> None:
    frame = pd.DataFrame({
        "resource_id": [f"r-{i}" for i in range(len(rows))],
        "account_id": [f"a-{i % 3}" for i in range(len(rows))],
        "env": pd.Series([r[0] for r in rows], dtype=object),
        "weekday_cost": pd.Series([r[1] for r in rows], dtype=float),
        "weekend_cost": pd.Series([r[2] for r in rows], dtype=float),
        "weekdays": pd.Series([r[3] for r in rows], dtype="Int64"),
        "weekend_days": pd.Series([r[4] for r in rows], dtype="Int64"),
    })
    prod = {fold_value(v) for v in production}
    expected = by_row(frame.astype({"weekdays": float, "weekend_days": float}), prod, level)
    assert weekend_rows(frame, prod, level) == expected


def test_an_empty_frame_finds_nothing() -> None:
    empty = pd.DataFrame(columns=["resource_id", "account_id", "env", "weekday_cost", "weekend_cost", "weekdays",
                                  "weekend_days"])
    assert weekend_rows(empty, {"prod"}, 0.8) == []


def test_a_weekend_exactly_at_the_level_counts_and_production_never_does() -> None:
    frame = pd.DataFrame({"resource_id": ["at", "below", "prod"], "account_id": ["a", "a", "a"],
                          "env": ["dev", "dev", " Prod"], "weekday_cost": [50.0, 50.0, 50.0],
                          "weekend_cost": [16.0, 15.9, 40.0], "weekdays": [5, 5, 5], "weekend_days": [2, 2, 2]})
    # per day: weekday 10; weekend 8 (= 0.8 x 10), 7.95, 20
    assert weekend_rows(frame, {"prod"}, 0.8) == [("at", "a", 16.0)]
