"""Pilot: a team named with a terminal escape sequence shows on the People screen as its readable text,
in the grid's own columns (issue 21: data text is Text, sanitised, never markup)."""

from __future__ import annotations

from textual.widgets import DataTable

from exports.sanitize import plain
from finops_tui.app import FinOpsApp
from finops_tui.screens.people import PeopleScreen
from rituals.people import add_person, add_team
from tests.workers import workers_done

DIRTY = "\x1b[31mansi\x1b[0m [b]bold[/b]\x00\x9b2J"


async def test_the_people_screen_shows_escape_sequences_as_text(home) -> None:
    with home.records.write() as s:
        add_team(s, DIRTY)
        add_person(s, "ana", "Ana \x1b]52;c;ZXZpbA==\x07Lopez", "finops_lead", teams=[DIRTY.strip()])
    app = FinOpsApp(home)
    async with app.run_test(size=(150, 40)) as pilot:
        await app.push_screen(PeopleScreen(home))
        for _ in range(3):
            await pilot.pause()
            await workers_done(app)
        teams = app.screen.query_one("#pp-teams-table", DataTable)
        people = app.screen.query_one("#pp-people-table", DataTable)
        team_cells = [c.plain for c in teams.get_row_at(0)]
        person_cells = [c.plain for c in people.get_row_at(0)]
        assert team_cells[0] == plain(DIRTY, one_line=True) == "ansi [b]bold[/b]"
        assert person_cells[1] == "Ana Lopez" and person_cells[3] == plain(DIRTY, one_line=True)
        assert len(team_cells) == len(teams.columns) and len(person_cells) == len(people.columns)
