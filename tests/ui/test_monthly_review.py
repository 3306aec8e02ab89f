"""A whole monthly review on the demo company, driven by Pilot: the run opens on last month, the agenda
fills the steps, a carried action is walked to done with a note, a note is typed, a proposed action is
created with its RACI owner, closing freezes the agenda and stores next month's forecast, minutes export."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import Input, OptionList, Select, Static, TextArea

from finops_tui.app import FinOpsApp
from finops_tui.modals.action_form import ActionForm
from finops_tui.modals.confirm import Confirm
from finops_tui.screens.monthly_review import MonthlyReviewScreen
from finops_tui.widgets.agenda_item import AgendaItem
from rituals import runs
from rituals.actions import action_history
from storage.db import Records
from storage.records import Action, ForecastSnapshot, Person
from tests.workers import workers_done


async def _settle(app, pilot, delay: float = 0.0) -> None:
    if delay:
        await pilot.pause(delay)
    await workers_done(app)
    await pilot.pause()


async def test_a_whole_review_from_opening_to_close(demo_home) -> None:
    home = demo_home
    app = FinOpsApp(home)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = MonthlyReviewScreen(home, facilitator="priya")
        await app.push_screen(screen)
        for _ in range(3):  # the run opens, then the agenda worker starts
            await _settle(app, pilot)
        assert screen.run.period == "2026-10" and screen.agenda is not None
        run_id = screen.run.id
        assert "Delete unattached EBS volumes" in screen.query_one("#mr-actions", AgendaItem).source

        screen.go_to("actions")
        walk = screen.query_one("#mr-walk", OptionList)
        ebs = next(i for i, r in enumerate(screen.walk_rows.values()) if r["title"].startswith("Delete unattached"))
        action_id = list(screen.walk_rows)[ebs]
        walk.highlighted = ebs
        await pilot.pause()
        screen.query_one("#mr-walk-status", Select).value = "done"
        note = screen.query_one("#mr-walk-note", Input)
        note.focus()
        await pilot.press(*"deleted 40 volumes | `dev`", "enter")
        await _settle(app, pilot)
        assert screen.walk_rows[action_id]["status"] == "done"

        screen.go_to("spend")
        screen.query_one("#notes-spend", TextArea).focus()
        await pilot.press(*"ml-inference over budget [again]")
        await _settle(app, pilot, delay=0.8)

        screen.go_to("decisions")
        proposals = screen.query_one("#mr-proposals", OptionList)
        proposals.focus()
        proposals.highlighted = 0
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ActionForm)
        first = screen.agenda["decisions"]["proposed_actions"][0]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen, str(form.query_one("#action-errors", Static).render())
        await _settle(app, pilot)

        screen.query_one("#stepper-steps").focus()
        await pilot.press("c")
        for _ in range(150):  # the agenda is recomputed in a thread before the question
            if isinstance(app.screen, Confirm):
                break
            await pilot.pause(0.2)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await _settle(app, pilot)
        extras = screen.outcome.extras  # the definition's close extras: next month's forecast
        assert extras["stored"] and extras["month"] == "2026-11", extras
        assert "forecast for 2026-11 stored" in str(screen.query_one("#stepper-status", Static).render())

        await pilot.press("m")
        await _settle(app, pilot)
        text = screen.exported_path.read_text(encoding="utf-8")

    other = Records(home.records_url, migrate=False)
    try:
        with other.session() as s:
            run = runs.get_run(s, run_id)
            assert run.status == "closed" and run.notes["spend"] == "ml-inference over budget [again]"
            assert run.numbers["month"] == "2026-10" and set(run.numbers) >= {
                "actions", "spend", "showback", "unit_economics", "anomalies", "coverage", "decisions"}
            assert action_id in [r["id"] for r in run.numbers["actions"]["done_since"]]
            created = s.exec(select(Action).where(Action.source_run_id == run_id)).all()
            owner = s.get(Person, created[0].owner_id)
            assert [a.title for a in created] == [first["title"]] and owner.handle == first["owner"]
            assert str(created[0].due_date) == str(first["due_date"])
            history = action_history(s, action_id)
            assert (history[-1].field, history[-1].new, history[-1].note) == ("status", "done",
                                                                               "deleted 40 volumes | `dev`")
            snaps = s.exec(select(ForecastSnapshot).where(ForecastSnapshot.month == "2026-11-01")).all()
            assert snaps and any(x.team is None for x in snaps)
    finally:
        other.dispose()
    assert "\n## Spend against budget and forecast\n" in text and "deleted 40 volumes" in text
    assert "> **Notes.** ml-inference over budget [again]" in text  # the step's note, under the step
