"""Every renderer passes text from data or people through the one sanitiser (issue 21): arbitrary text in a
name, a title or a team comes out of the CLI tables, the digest, the minutes' markdown helpers, JSON and
the TUI's cells with no raw control byte, and a table keeps its shape (a dirty value renders exactly as its
sanitised self; markdown gains no line)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.text import Text
from sqlmodel import select

from exports.digest import owner_digest
from exports.markdown import block, inline, quote, table
from exports.markdown import cell as md_cell
from exports.sanitize import plain
from finops_tui.cli import main
from finops_tui.errors import echo_json
from finops_tui.widgets.data_table import cell_text
from finops_tui.widgets.safe_text import cell as tui_cell
from rituals.actions import ActionView, create_action
from rituals.people import add_person, add_team
from storage.home import Home
from storage.records import Action, Person, Team

# A raw control byte on its way to a terminal or file: C0 except tab and newline, DEL, C1.
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Text that leans on the dangerous parts: escape sequences, C0/C1 controls, markdown and HTML.
NASTY = st.text(alphabet=st.sampled_from(["\x1b", "[", "]", "(", ")", "3", "1", "m", "\x00", "\x07", "\x9b", "\r",
                                          "\n", "\t", "<", ">", "&", "|", "*", "#", "-", " ", "a", "Z", "é", "東"]),
                min_size=1, max_size=24) | st.text(min_size=1, max_size=24)
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def view(title: str, owner_name: str, team: str) -> ActionView:
    return ActionView(id=7, title=title, kind="other", status="open", owner="ana", owner_name=owner_name, team=team,
                      due_date=date(2026, 11, 20), version=1, overdue=True, days_overdue=7, updated_at=None)


@given(NASTY)
def test_markdown_helpers_and_the_digest(text: str) -> None:
    rows = table(["team", "cost"], [[md_cell(text), "1.00 USD"]])
    for out in (inline(text), md_cell(text), block(text), quote(text), rows):
        assert not RAW.search(out), repr(out)
    assert len(rows.splitlines()) == 3  # header, rule, one row: user text adds no row or column
    assert "\n" not in inline(text) and "\n" not in md_cell(text)
    digest = owner_digest(text, "ana", [view(text, text, text)], date(2026, 11, 27))
    clean = owner_digest("x", "ana", [view("x", "x", "x")], date(2026, 11, 27))
    assert not RAW.search(digest)
    assert len(digest.splitlines()) == len(clean.splitlines())  # user text adds no line, heading or item
    # No HTML tag can open and no link can form (markdown escaping is by position: a lone "<" stays).
    assert not re.search(r"<[A-Za-z/!?]", digest) and "](" not in digest.replace("\\](", "")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NASTY)
def test_tui_cells_and_json(capsys: pytest.CaptureFixture[str], text: str) -> None:
    for t in (tui_cell(text), cell_text(text)):
        assert not RAW.search(t.plain) and "\n" not in t.plain
        assert t.plain == plain(text, one_line=True)
    assert not t.spans  # plain text, never markup
    built = Text(text, style="bold red")  # a Text a screen built (rich drops a few controls itself)
    styled = cell_text(built)  # goes through the same path, keeping its style
    assert styled.plain == plain(built.plain, one_line=True) and str(styled.style) == "bold red"
    assert not RAW.search(styled.plain) and "\n" not in styled.plain
    echo_json({"value": text})
    out = capsys.readouterr().out
    assert not RAW.search(out) and json.loads(out) == {"value": text}


@pytest.fixture(scope="module")
def home_with_records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sanitized-home")
    home = Home(path)
    with home.records.write() as s:
        add_team(s, "payments")
        person = add_person(s, "ana", "Ana", "engineering", teams=["payments"])
        team = s.exec(select(Team)).one()
        create_action(s, title="tag the buckets", owner_id=person.id, team_id=team.id,
                      now=datetime(2026, 11, 1, tzinfo=UTC), due_date=date(2026, 11, 20))
    home.close()
    return path


def _store(path: Path, text: str) -> None:
    home = Home(path)
    with home.records.write() as s:
        for row, attr in ((s.exec(select(Team)).one(), "name"), (s.exec(select(Person)).one(), "name"),
                          (s.exec(select(Action)).one(), "title")):
            setattr(row, attr, text)
            s.add(row)
    home.close()


def _render(path: Path) -> list[str]:
    outs = []
    for cmd in (["teams", "list"], ["people", "list"], ["actions", "show", "1"], ["actions", "list"], ["digest"]):
        out = CliRunner().invoke(main, ["--home", str(path), *cmd], env={"FINOPS_TUI_TODAY": "2026-11-27"})
        assert out.exit_code == 0, (cmd, out.output)
        outs.append(out.stdout)
    return outs


@FAST
@given(NASTY)
def test_cli_tables_show_arbitrary_names_in_their_shape(home_with_records: Path, text: str) -> None:
    _store(home_with_records, text)
    dirty = _render(home_with_records)
    _store(home_with_records, plain(text, one_line=True))
    clean = _render(home_with_records)
    for d, c in zip(dirty, clean, strict=True):
        assert not RAW.search(d), repr(d)
        assert len(d.splitlines()) == len(c.splitlines())
    assert dirty[:4] == clean[:4]  # the padded tables: the dirty value renders exactly as its sanitised self


def _notices(text: str) -> list[Any]:
    """One notice of each kind, every value from data or people being ``text``."""
    from rituals.notices import ANOMALIES, OVERDUE, PREREAD, SWEEP, Notice

    day = date(2026, 11, 20)
    action = {"id": 1, "title": text, "owner": text, "due_date": day, "days_overdue": 7, "status": text,
              "overdue": True}
    sweep = {"week": "2026-W47", "start": day, "end": date(2026, 11, 27), "meets_target": False,
             "coverage_pct": 61.9, "target_pct": 80.0, "unallocated_cost": 12.5, "total_cost": 100.0,
             "currency": text, "open_fixes": 1}
    return [
        Notice(ANOMALIES, "a", text, ["c"], {
            "currency": text, "impact": 10.0, "dimension": text, "what": text, "actual": 20.0, "expected": 10.0,
            "start": day, "end": date(2026, 11, 22), "days": 2, "team": text, "cases": [text],
            "root_causes": [{"dimension": text, "value": text, "name": text, "share_pct": 50.0}],
            "ack_command": text}),
        Notice(OVERDUE, "o", text, ["a"], {"owner": text, "owner_name": text, "team": text, "actions": [action]}),
        Notice(SWEEP, "s", None, ["w"], {**sweep, "team": None, "leaks": [{"account": text, "unallocated_cost": 1.0}]}),
        Notice(SWEEP, "t", text, ["w"], {
            **sweep, "team": text, "allocation_key": text, "untagged_cost": 3.0, "team_cost": 9.0,
            "by_tag_pct": 40.0, "unallocated_suggested_cost": 2.0, "resources": [text],
            "fixes": [{"id": 2, "title": text, "due_date": day}]}),
        Notice(PREREAD, "p", text, ["m"], {
            "currency": text, "team": text, "month": "2026-11", "review_date": date(2026, 12, 3),
            "spend": {"spend": 100.0, "budget": 90.0, "change_pct": 5.0},
            "drivers": [{"service": text, "change": 12.0}],
            "anomalies": [{"event": text, "impact": 10.0, "untriaged": False, "status": text}],
            "actions": [action], "proposals": [{"title": text, "owner": text}]}),
    ]


@given(NASTY)
def test_notification_messages_and_the_undelivered_line(text: str) -> None:
    """The notification renderer (title and body of each kind) and the board's undelivered line (a channel
    label and a receiver's error are data too) come out with no raw control byte and in their shape."""
    from exports.notifications import render
    from finops_tui.screens.board import undelivered_text
    from rituals.board import Board
    from storage.notification_log import Undelivered

    for dirty, clean in zip(_notices(text), _notices("x"), strict=True):
        title, body = render(dirty)
        clean_title, clean_body = render(clean)
        assert not RAW.search(title + body), repr((title, body))
        assert "\n" not in title and len(body.splitlines()) == len(clean_body.splitlines())
    late = Undelivered(1, "overdue", "o", text, text, 2, text, None)
    line = undelivered_text(Board(date(2026, 11, 27), [], None, [], [late]))
    assert not RAW.search(line.plain) and "\n" not in line.plain
    assert line.plain == plain(line.plain, one_line=True)
