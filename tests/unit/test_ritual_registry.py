"""The ritual registry is the one place a ritual is defined: its kind string, its steps and their titles
appear in its definition only, and every surface reads them from there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rituals.ritual import KINDS, RITUALS, ritual

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("rituals", "storage", "exports", "finops_tui")


def string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_a_kind_string_appears_only_in_its_definition() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.parent.name == "definitions" or "migrations" in path.parts:
                continue
            found += [f"{path.relative_to(ROOT)}:{line}: {value!r}" for line, value in string_constants(path)
                      if value in KINDS]
    assert found == [], "kind strings outside rituals/definitions:\n" + "\n".join(found)


def test_the_registry_holds_five_rituals_with_unique_kinds_and_steps() -> None:
    assert KINDS == ("tag_sweep", "anomaly_triage", "commitment_review", "monthly_review", "quarterly_review")
    for r in RITUALS:
        ids = [s.id for s in r.all_steps]
        assert len(ids) == len(set(ids)), r.kind
        assert ids[0] == "attendees" and ids[-2:] == ["decisions", "record"]
        assert all(s.title and not s.title[0].isdigit() for s in r.all_steps), "titles carry no numbering"


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="tag_sweep, anomaly_triage"):
        ritual("weekly_sweep")


def test_minutes_and_agenda_titles_are_the_definitions() -> None:
    from exports.minutes import _step_heading
    from exports.monthly_review import ITEMS

    review = ritual("monthly_review")
    assert [t for _id, t in ITEMS] == [s.title for s in review.all_steps if s.id not in ("attendees", "record")]
    for r in RITUALS:
        for step in r.all_steps:
            assert _step_heading(r.kind, step.id) == step.title
