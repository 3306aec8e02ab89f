"""The weekend-running rule's selection in the store (``storage.cost_queries.waste.WEEKEND_PREDICATE``, run by
the real DuckDB engine) equals the rule read row by row, as it is written in FINOPS-MODEL: a resource whose
weekend spend per day is at least the level times its weekday spend per day, on rows with missing sums, zero
days, negative and tied costs; and production values fold alike (``rituals.waste.non_production``)."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from rituals.tag_sweep import fold_value
from rituals.waste import non_production
from storage.cost_queries.waste import WEEKEND_PREDICATE

COST = st.one_of(st.none(), st.sampled_from([0.0, -3.0, 10.0, 8.0]), st.floats(-50, 500, allow_nan=False))
DAYS = st.one_of(st.none(), st.integers(0, 5))


def by_row(rows: list[tuple], level: float) -> list[int]:
    out = []
    for i, (weekday_cost, weekend_cost, weekdays, weekend_days) in enumerate(rows):
        if not weekdays or not weekend_days:
            continue
        weekday = (weekday_cost or 0.0) / weekdays
        weekend = (weekend_cost or 0.0) / weekend_days
        if weekday > 0 and weekend >= level * weekday:
            out.append(i)
    return out


def in_store(rows: list[tuple], level: float) -> list[int]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, weekday_cost DOUBLE, weekend_cost DOUBLE, weekdays BIGINT, "
                "weekend_days BIGINT)")
    if rows:
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [[i, *r] for i, r in enumerate(rows)])
    return [i for (i,) in con.execute(f"SELECT i FROM t WHERE {WEEKEND_PREDICATE} ORDER BY i", [level]).fetchall()]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(COST, COST, DAYS, DAYS), max_size=30), st.sampled_from([0.5, 0.8, 1.0]))
def test_the_store_selects_what_the_rule_read_row_by_row_selects(rows, level) -> None:
    assert in_store(rows, level) == by_row(rows, level)


def test_a_weekend_exactly_at_the_level_counts() -> None:
    # per day: weekday 10; weekend 8 (= 0.8 x 10), 7.95; nothing on weekdays; no weekend day
    rows = [(50.0, 16.0, 5, 2), (50.0, 15.9, 5, 2), (0.0, 40.0, 5, 2), (50.0, 40.0, 5, 0)]
    assert in_store(rows, 0.8) == [0]


@given(st.lists(st.sampled_from(["prod", "Prod ", "PROD", "production", "dev", "Dev", "staging", ""]), max_size=20),
       st.sampled_from([["prod"], ["prod", "production"], ["dev"]]))
def test_production_values_fold_and_the_order_is_kept(envs, production) -> None:
    prod = {fold_value(v) for v in production}
    rows = [(f"r-{i}", "a", env, float(100 - i)) for i, env in enumerate(envs)]
    want = [(r, a, c) for r, a, env, c in rows if fold_value(env) not in prod]
    assert non_production(rows, prod) == want
