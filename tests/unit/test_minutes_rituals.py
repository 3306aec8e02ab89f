"""The minutes of one closed run of each ritual on the demo company, with hostile text in its notes,
decisions, action titles and a triage note: golden files (read them when you regenerate them with
UPDATE_GOLDEN=1), every summary figure in its unit, no table wider than eight columns, no markup or control
byte from user text, and the HTML and plain-text renderings of the same document."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from exports.minutes import render_minutes
from exports.minutes_formats import to_html, to_text
from rituals.ritual import RITUALS
from tests.conftest import FIXED_TODAY
from tests.unit.minutes_runs import hold_runs

GOLDEN = Path(__file__).with_name("golden")
KINDS = [r.kind for r in RITUALS]


@pytest.fixture(scope="module")
def held(demo_truth_and_path, tmp_path_factory):
    home, ids = hold_runs(demo_truth_and_path[1], tmp_path_factory.mktemp("minutes") / "home", FIXED_TODAY)
    out = {}
    with home.records.session() as s:
        from storage.records import RitualRun

        for kind, run_id in ids.items():
            out[kind] = (render_minutes(s, run_id, "USD"), s.get(RitualRun, run_id).numbers)
    yield home, ids, out
    home.close()


def _tables(text: str) -> list[list[str]]:
    """Every table's lines."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


@pytest.mark.parametrize("kind", KINDS)
def test_minutes_match_the_golden_file(held, kind) -> None:
    text = held[2][kind][0]
    path = GOLDEN / f"minutes_demo_{kind}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs; UPDATE_GOLDEN=1 rewrites it on purpose"


@pytest.mark.parametrize("kind", KINDS)
def test_the_document_reads_summary_steps_appendix(held, kind) -> None:
    text = held[2][kind][0]
    ritual = next(r for r in RITUALS if r.kind == kind)
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["Summary", *[s.title for s in ritual.steps], "Appendix"]
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    for sub in ("### Decisions", "### New actions", "### Since the last run"):
        assert sub in summary
    # No table appears twice, and none is wider than eight columns (nor ragged).
    tables = _tables(text)
    assert len({"\n".join(t) for t in tables}) == len(tables)
    for t in tables:
        widths = {len(_cells(line)) for line in t}
        assert len(widths) == 1 and widths.pop() <= 8, t[0]


@pytest.mark.parametrize("kind", KINDS)
def test_every_summary_figure_carries_its_unit(held, kind) -> None:
    """Computed here from the frozen numbers: money with its currency, percentages with %, hours with h,
    counts as whole numbers; each against its target in the same unit."""
    text, numbers = held[2][kind]
    ritual = next(r for r in RITUALS if r.kind == kind)
    summary = text.split("## Summary", 1)[1].split("### Decisions", 1)[0]
    rows = {(c := _cells(line))[0]: c[1:] for line in _tables(summary)[0][2:]}
    heads = ritual.headlines(numbers)
    assert heads and set(rows) == {h.title for h in heads}
    currency = numbers.get("currency") or numbers.get("kpis", {}).get("currency")
    if kind == "quarterly_review":  # every KPI the scorecard measures has a declared kind, with data or not
        from rituals.definitions.quarterly_review import KPI_UNITS

        card = numbers["kpis"]
        assert {k["key"] for k in [*card["kpis"], *card["no_data"]]} <= set(KPI_UNITS)
    for h in heads:
        value, target = rows[h.title]
        if h.value is None:
            assert value == "no data"
            continue
        if h.unit == "money":
            assert value == f"{h.value:,.0f} {currency}", h
        elif h.unit == "pct":
            assert value == f"{h.value:.1f}%", h
        elif h.unit == "hours":
            assert value == f"{h.value:.1f} h", h
        elif h.unit == "count":
            assert value == f"{int(h.value):,}" and float(h.value).is_integer(), h
        else:
            pytest.fail(f"a headline of unit {h.unit}")
        if h.target is None:
            assert target == "-"
        else:
            assert target == {"pct": f"{h.target:.1f}%", "count": f"{int(h.target):,}",
                              "hours": f"{h.target:.1f} h", "money": f"{h.target:,.0f} {currency}"}[h.unit]


@pytest.mark.parametrize("kind", KINDS)
def test_user_text_stays_inert_and_readable(held, kind) -> None:
    text = held[2][kind][0]
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)  # the ESC and BEL of the note are gone
    assert "<script" not in text and "<b>" not in text and "<img" not in text
    assert not re.search(r"(?<!\\)\]\(", text)  # no link or image: every "](" is escaped
    lines = text.splitlines()
    assert not any(line.startswith(("# Not", "- not", "1. not", "    ", "===", "```", "> not a quote")) for line in lines)
    assert not any(re.match(r">\s*(- not|1\. not|#|```|> not)", line) for line in lines)  # nor inside a quote
    # What markdown would not read as markup stays as typed.
    assert "61.3% of a_b < c" in text and "[bold]" in text
    html = to_html(text, "minutes")
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "href=" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    plain = to_text(text)
    assert "Cut <b>NAT</b> | `egress` [link](http://x) *now*" in plain  # text, as it was typed
    assert "\\|" not in plain and "&lt;" not in plain


def test_html_and_text_hold_the_same_document(held) -> None:
    text = held[2]["tag_sweep"][0]
    html = to_html(text, "Tag sweep")
    assert html.startswith("<!DOCTYPE html>") and "<meta charset=\"utf-8\">" in html
    assert html.count("<table>") == len(_tables(text))
    assert html.count("<h2>") == text.count("\n## ")
    plain = to_text(text)
    assert "Summary\n-------" in plain and "Appendix\n--------" in plain
    figures = plain.split("Summary\n-------\n\n", 1)[1].splitlines()
    assert figures[0].split() == ["figure", "value", "target"] and set(figures[1]) <= {"-", " "}


def test_closed_minutes_are_the_same_bytes_later(held) -> None:
    home, ids, out = held
    with home.records.session() as s:
        for kind, run_id in ids.items():
            assert render_minutes(s, run_id, "USD").encode() == out[kind][0].encode()
