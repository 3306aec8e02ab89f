"""Budgets and metric values typed in the app: stored (upserted) or refused naming the field."""

from __future__ import annotations

import pytest
from sqlmodel import select

from rituals.budgets import list_budgets, list_metrics, set_budget, set_metric
from storage.records import Budget


def test_typed_budget_is_upserted_and_bad_fields_are_named(demo_home) -> None:
    with demo_home.records.write() as s:
        row = set_budget(s, "web", "2027-01", "15,000")
    assert row == {"month": "2027-01", "team": "web", "amount": 15000.0, "source": "typed"}
    with demo_home.records.write() as s:
        set_budget(s, "web", "2027-01", "16000")
    with demo_home.records.session() as s:
        web = [b for b in list_budgets(s) if b["month"] == "2027-01"]
        assert web == [{"month": "2027-01", "team": "web", "amount": 16000.0, "source": "typed"}]
        before = len(s.exec(select(Budget)).all())
    for args, field in [(("nope", "2027-01", "1"), "team"), (("web", "2027-13", "1"), "month"),
                        (("web", "2027-02", "-5"), "amount"), (("web", "2027-02", "lots"), "amount")]:
        with pytest.raises(ValueError, match=field), demo_home.records.write() as s:
            set_budget(s, *args)
    with demo_home.records.session() as s:
        assert len(s.exec(select(Budget)).all()) == before


def test_typed_metric_for_the_organisation_or_a_team(demo_home) -> None:
    with demo_home.records.write() as s:
        set_metric(s, "2027-01", "signups", "42")
        set_metric(s, "2027-01", "inferences", "3000000", "ml-inference")
    with demo_home.records.session() as s:
        rows = [m for m in list_metrics(s) if m["month"] == "2027-01"]
    assert {(m["metric"], m["team"], m["value"]) for m in rows} == {("signups", None, 42.0),
                                                                   ("inferences", "ml-inference", 3e6)}
    with pytest.raises(ValueError, match="metric"), demo_home.records.write() as s:
        set_metric(s, "2027-01", "  ", "1")
