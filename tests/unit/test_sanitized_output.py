"""Every renderer passes text from data or people through the one sanitiser (issue 21): arbitrary text in a
name, a title or a team comes out of the CLI tables, the digest, the minutes' markdown helpers, JSON and
the TUI's cells with no raw control byte, and a table keeps its shape (a dirty value renders exactly as its
sanitised self; markdown gains no line)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from exports.digest import owner_digest
from exports.markdown import block, inline, rows_table
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
    for out in (inline(text), md_cell(text), block(text), rows_table([{"team": text, "cost": 1.0}], "USD")):
        assert not RAW.search(out), repr(out)
    assert "\n" not in inline(text) and "\n" not in md_cell(text)
    digest = owner_digest(text, "ana", [view(text, text, text)], date(2026, 11, 27))
    clean = owner_digest("x", "ana", [view("x", "x", "x")], date(2026, 11, 27))
    assert not RAW.search(digest)
    assert len(digest.splitlines()) == len(clean.splitlines())  # user text adds no line, heading or item
    assert "<" not in digest.replace("&lt;", "") and "](" not in digest.replace("\\](", "")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NASTY)
def test_tui_cells_and_json(capsys: pytest.CaptureFixture[str], text: str) -> None:
    for t in (tui_cell(text), cell_text(text)):
        assert not RAW.search(t.plain) and "\n" not in t.plain
        assert t.plain == plain(text, one_line=True)
    assert not t.spans  # plain text, never markup
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
