"""Minutes: golden files for a closed and a draft run with hostile user text (a monthly review frozen in a
shape that is not an agenda: its summary says so and its notes still show); escaping; the section hook."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from exports import markdown as md
from exports import minutes
from rituals import runs
from rituals.actions import create_action
from storage.db import Records
from storage.records import Person

pytestmark = pytest.mark.records_engines  # SQLite and PostgreSQL: tests/records_engines.py

GOLDEN = Path(__file__).with_name("golden")
OPENED = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
CLOSED = datetime(2026, 11, 5, 10, 20, tzinfo=UTC)
HOSTILE = ("# Not a heading | pipe `tick` <script>alert(1)</script>\n"
           "- not a list\n1. not ordered\n    not code\n===\n[click](javascript:alert(1)) ![img](x.png) "
           "*bold* _em_ ~~del~~ $x$ & &amp; \\ end\n\n> not a quote\n```\nfence")
NUMBERS = {
    "currency": "USD",
    "month": "2026-10",
    "total_spend": 98765.4321,
    "budget": 95000,
    "allocation_coverage_pct": 87.25,
    "anomalies_count": 4,
    "ttd_hours": 3.5,
    "on_track": False,
    "forecast": {"next_month": 101000.0, "method": "ets", "accuracy_pct": 92.5},
    "missing": None,
    "accounts": ["111111111111", "222222222222"],
    "teams": [
        {"team": "web | front", "spend": 1234.5, "share_pct": 12.5, "owner": "<b>bo</b>"},
        {"team": "search\nnewline", "spend": 20.0, "share_pct": 0.2, "owner": None},
    ],
    "movers": {"by_service": [{"service": "`NAT` #1", "delta": -50.25, "currency": "EUR"}]},
}


def _seed(records: Records) -> tuple[int, int]:
    with records.write() as s:
        ana = Person(handle="ana", name="Ana | Lead", role="finops_lead")
        bo = Person(handle="bo", name="Bo <script>", role="engineering")
        s.add(ana)
        s.add(bo)
        s.flush()
        run = runs.open_run(s, "monthly_review", "2026-10", ana.id, OPENED)
        run = runs.set_attendees(s, run, ["ana", "bo", "ghost_[x]"])
        run = runs.save_note(s, run, "spend", HOSTILE)
        run = runs.save_note(s, run, "actions_carried", "Carried *three* actions.\nAll | on track.")
        run = runs.save_note(s, run, "empty", "   ")
        run = runs.add_decision(s, run, "Cut NAT | `egress`\n# now", "ana", OPENED, step="spend")
        run = runs.add_decision(s, run, "<img src=x onerror=alert(1)>", None, OPENED)
        create_action(s, title="Fix | tags `now` <script>", owner_id=bo.id, now=OPENED,
                      due_date=date(2026, 11, 20), source_run_id=run.id, kind="tag_fix")
        create_action(s, title="Line\nbreak [link](http://x)", owner_id=ana.id, now=OPENED, source_run_id=run.id)
        draft = runs.open_run(s, "tag_sweep", "2026-W45", None, OPENED)
        draft = runs.save_note(s, draft, "coverage", "draft note")
        closed_id = run.id
    with records.write() as s:
        runs.close_run(s, closed_id, NUMBERS, CLOSED)
    return closed_id, draft.id


@pytest.fixture
def seeded(records_url):
    r = Records(records_url)
    ids = _seed(r)
    yield r, ids
    r.dispose()


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 rewrites it on purpose"


def test_closed_run_minutes_match_the_golden_file(seeded) -> None:
    records, (closed_id, _) = seeded
    with records.session() as s:
        first = minutes.render_minutes(s, closed_id)
    with records.session() as s:
        again = minutes.render_minutes(s, closed_id)
    assert first.encode() == again.encode()
    _check_golden("minutes_monthly_review_closed.md", first)


def test_open_run_renders_as_a_draft(seeded) -> None:
    records, (_, draft_id) = seeded
    with records.session() as s:
        text = minutes.render_minutes(s, draft_id)
    assert "**Draft.**" in text and "The figures are frozen when the run is closed." in text
    _check_golden("minutes_tag_sweep_draft.md", text)


def test_no_user_text_escapes_into_markup(seeded) -> None:
    records, (closed_id, _) = seeded
    with records.session() as s:
        text = minutes.render_minutes(s, closed_id)
    # Figures frozen in a shape the minutes do not read are shown as frozen, in a JSON code block: inert.
    from exports.minutes_formats import to_html

    fenced = re.findall(r"^```json\n.*?\n```$", text, flags=re.S | re.M)
    assert len(fenced) == 1 and '"owner": "<b>bo</b>"' in fenced[0]
    assert "&lt;b&gt;bo&lt;/b&gt;" in to_html(text, "m") and "<b>bo" not in to_html(text, "m")
    text = text.replace(fenced[0], "")
    assert "<script>" not in text and "<b>" not in text and "<img" not in text
    assert not re.search(r"(?<!\\)\]\(", text)  # no link or image survives: every "](" is escaped
    lines = text.splitlines()
    headings = [line for line in lines if line.startswith("#")]
    assert all(not h.startswith("# Not") and "now" not in h for h in headings)
    # No user line opens a block, at the start of a line or inside the notes' quote.
    bodies = [line[2:] if line.startswith("> ") else line for line in lines]
    assert not any(b.startswith(("    ", "- not", "1. not", "===", "```", "> not", "# Not")) for b in bodies)
    widths: list[int] = []  # every table row has as many cells as its header
    for line in [*lines, ""]:
        if line.startswith("|"):
            widths.append(len(line.replace("\\|", "").split("|")) - 2)
        elif widths:
            assert len(set(widths)) == 1, widths
            widths = []


def test_escaping_helpers() -> None:
    assert md.cell("a | b\nc") == "a \\| b c"
    assert md.cell("") == " "
    assert md.inline("# x *y*") == "\\# x \\*y\\*"
    assert md.block("- a\n\n\n2) b") == "\\- a\n\n2\\) b"
    # Only what markdown would read as markup here is escaped: plain text stays as typed.
    for text in ("61.3%", "40.9% of 2 * 3", "[bold] and a_b", "a < b & c", "#1 in 2026.", "-5% on the month"):
        assert md.inline(text) == text and md.cell(text) == text
    assert md.inline("<b>x</b> &amp; [l](u)") == "&lt;b>x&lt;/b> &amp;amp; [l\\](u)"
    assert md.inline("x\x1b[31m red\x07") == "x red"  # through exports.sanitize.plain first
    assert md.inline("1. one") == "1\\. one" and md.inline("2026.5 kept") == "2026.5 kept"


def test_figures_are_formatted_by_their_declared_kind() -> None:
    from exports.format import figure_text
    from rituals.ritual import ritual

    sweep = ritual("tag_sweep")
    assert sweep.field_kind("by_key.*") == "pct"  # "cost-center | 50.69 USD" was a percentage
    assert figure_text(50.69, sweep.field_kind("by_key.*"), "USD") == "50.7%"
    commitments = ritual("commitment_review")
    assert figure_text(0, commitments.field_kind("rows_without_list_cost"), "USD") == "0"  # a count, not money
    triage = ritual("anomaly_triage")
    assert figure_text(12844.2, triage.field_kind("impact"), "USD") == "12,844 USD"  # money with its currency
    assert figure_text(12844.2, triage.field_kind("impact"), "USD", exact=True) == "12,844.20 USD"
    with pytest.raises(KeyError, match="no kind declared"):
        sweep.field_kind("total_spend")


def test_a_ritual_adds_its_own_section(seeded) -> None:
    records, (closed_id, _) = seeded

    def extra(ctx: minutes.MinutesContext) -> str:
        return f"## Forecast ledger\n\nNext month: {md.inline(ctx.run.numbers['forecast']['method'])} | sure"

    minutes.register_section("monthly_review", extra)
    try:
        with records.session() as s:
            text = minutes.render_minutes(s, closed_id)
    finally:
        minutes.unregister_section("monthly_review", extra)
    assert "## Forecast ledger\n\nNext month: ets" in text
    # After the steps, whose sections are headed by the titles of the ritual's definition, in its order.
    from rituals.ritual import ritual

    titles = [s.title for s in ritual("monthly_review").steps]
    at = [text.index(f"\n## {t}\n") for t in titles]
    assert at == sorted(at) and at[-1] < text.index("## Forecast ledger")
    spend = text[at[1]:at[2]]
    assert "> **Notes.** \\# Not a heading" in spend  # the step's note, where it was taken


def test_unknown_run_is_refused(seeded) -> None:
    records, _ = seeded
    with pytest.raises(runs.RunNotFound), records.session() as s:
        minutes.render_minutes(s, 4242)
