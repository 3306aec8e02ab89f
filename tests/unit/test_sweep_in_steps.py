"""The sweep's findings step by step: its Coverage step's figures are reported (``Request.progress``) from the
summed spend before the line items are read for the unallocated resources, and they are exactly the same
keys of the whole sweep's ``--json`` object; the sweep is the same with or without a listener, and without
the rollup (one scan reads everything) nothing is reported early."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rituals.tag_fixes import compute_sweep
from tests.conftest import FIXED_TODAY

WINDOW = (FIXED_TODAY - timedelta(days=7), FIXED_TODAY)
COVERAGE_STEP = {"start", "end", "currency", "allocation_key", "charge_categories", "source", "total_cost",
                 "allocated_cost", "unallocated_cost", "by_tag_cost", "by_rule_cost", "coverage_pct", "by_tag_pct",
                 "by_rule_pct", "target_pct", "meets_target", "by_key", "trend"}


def test_the_coverage_comes_first_and_equals_the_whole_sweeps(demo_home) -> None:
    parts: list[dict] = []
    whole = compute_sweep(demo_home, *WINDOW, progress=parts.append)
    numbers = whole.as_json()

    assert len(parts) == 1
    part = parts[0]
    assert set(part) == COVERAGE_STEP
    assert {k: numbers[k] for k in COVERAGE_STEP} == part
    assert part["total_cost"] > 0 and part["coverage_pct"] is not None and len(part["trend"]) == 8
    # The whole sweep still holds its resources, and is the sweep computed with no listener.
    assert numbers["top_unallocated"]
    assert compute_sweep(demo_home, *WINDOW).as_json() == numbers


def test_the_resources_are_read_after_the_coverage_is_reported(demo_home, monkeypatch) -> None:
    import duckdb

    seen: list[str] = []
    real_execute = duckdb.DuckDBPyConnection.execute

    class Spy:
        """Wraps the reader's connection: records which statements ran, in order."""

        def __init__(self, con):  # type: ignore[no-untyped-def]
            self._con = con

        def execute(self, sql, *args, **kwargs):  # type: ignore[no-untyped-def]
            if "ResourceId AS resource_id" in sql:
                seen.append("resources")
            return real_execute(self._con, sql, *args, **kwargs)

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self._con, name)

    store = demo_home.costs
    real_reader = type(store).reader

    from contextlib import contextmanager

    @contextmanager
    def reader(self):  # type: ignore[no-untyped-def]
        with real_reader(self) as con:
            yield None if con is None else Spy(con)

    monkeypatch.setattr(type(store), "reader", reader)
    compute_sweep(demo_home, *WINDOW, progress=lambda part: seen.append("coverage"))
    assert seen == ["coverage", "resources"]


def test_without_the_rollup_nothing_is_reported_early(demo_home, monkeypatch) -> None:
    with_rollup = compute_sweep(demo_home, *WINDOW).as_json()
    monkeypatch.setenv("FINOPS_TUI_ROLLUP", "off")
    parts: list[dict] = []
    plain = compute_sweep(demo_home, *WINDOW, progress=parts.append).as_json()
    assert parts == []
    for key in COVERAGE_STEP - {"trend", "by_key"}:
        assert plain[key] == pytest.approx(with_rollup[key], abs=1e-6) if isinstance(plain[key], float) \
            else plain[key] == with_rollup[key]
