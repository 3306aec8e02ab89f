"""The ritual stepper driven by Pilot: a run is created on open, notes autosave, attendees, decisions and
an inline action are stored, the Record step freezes the numbers and closes the run, minutes are written,
and reopening an open run resumes it. Stored state is read back through a fresh records connection."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from textual.widgets import Select, SelectionList, Static, TextArea

from finops_tui.app import FinOpsApp
from finops_tui.modals.action_form import ActionForm
from finops_tui.modals.confirm import Confirm
from finops_tui.screens.stepper import RitualStepperScreen
from rituals import runs
from rituals.ritual import StepDef, ritual
from storage.db import Records
from storage.records import Action, Person
from tests.workers import workers_done

NUMBERS = {"currency": "USD", "total_spend": 1234.5, "teams": [{"team": "[web]", "spend": 1000.0}]}


class TinyFindings:
    def as_json(self) -> dict:
        return NUMBERS

    def headlines(self) -> list:
        return []


class TinyReview(RitualStepperScreen):
    """A monthly review with one step of its own whose findings are NUMBERS and whose close writes nothing
    else: the stepper alone, on a home without cost data."""

    kind = "monthly_review"
    RITUAL = replace(ritual("monthly_review"), steps=(StepDef("spend", "Spend against budget"),),
                     compute=lambda home, request: TinyFindings(), prepare_close=None, close_extras=None)

    def compose_spend(self):
        yield Static("Spend body", id="tiny-spend-body")


def _people(home) -> dict[str, int]:
    with home.records.write() as s:
        people = [Person(handle="ana", name="Ana Lead", role="finops_lead"),
                  Person(handle="bo", name="Bo [eng]", role="engineering")]
        s.add_all(people)
        s.flush()
        return {p.handle: p.id for p in people}


def _fresh(home, run_id: int):
    """The run as another process would read it: a new engine on the same file."""
    other = Records(home.records_url, migrate=False)
    try:
        with other.session() as s:
            run = runs.get_run(s, run_id)
            actions = list(s.exec(Action.__table__.select().where(Action.source_run_id == run_id)))
        return run, actions
    finally:
        other.dispose()


async def _settle(app, pilot, delay: float = 0.0) -> None:
    if delay:
        await pilot.pause(delay)
    await workers_done(app)
    await pilot.pause()


async def test_a_whole_run_from_open_to_minutes(home) -> None:
    ids = _people(home)
    app = FinOpsApp(home)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = TinyReview(home, "2026-10", facilitator="ana")
        await app.push_screen(screen)
        await _settle(app, pilot)
        assert screen.run is not None and screen.run.status == "open"
        run_id = screen.run.id
        assert _fresh(home, run_id)[0].period == "2026-10"

        screen.query_one("#stepper-steps").focus()
        await pilot.press("n")
        assert screen.steps[screen.step_index].id == "spend"
        screen.query_one("#notes-spend", TextArea).focus()
        await pilot.press(*"cut | `nat`", "enter", *"# two")
        await _settle(app, pilot, delay=0.9)  # the debounce is 0.5 s: saved without leaving the step
        assert _fresh(home, run_id)[0].notes == {"spend": "cut | `nat`\n# two"}

        screen.query_one("#stepper-attendees", SelectionList).select("bo")
        await _settle(app, pilot)
        decision = screen.query_one("#stepper-decision-input")
        decision.focus()
        await pilot.press(*"Buy the plan", "enter")
        await _settle(app, pilot)

        screen.query_one("#stepper-steps").focus()
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ActionForm)
        await pilot.press("ctrl+s")  # no title, no owner: refused with the reasons
        await pilot.pause()
        assert "needs a title" in str(form.query_one("#action-errors", Static).render())
        await pilot.press(*"Right-size search")
        form.query_one("#action-owner", Select).value = ids["bo"]
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert app.screen is screen

        stored, actions = _fresh(home, run_id)
        assert stored.attendees == ["bo"]
        assert [(d["text"], d["by"], d["step"]) for d in stored.decisions] == [("Buy the plan", "ana", "spend")]
        assert [(a.title, a.owner_id, a.status) for a in actions] == [("Right-size search", ids["bo"], "open")]
        assert actions[0].due_date == date(2026, 12, 11)  # the form's default: two weeks from today

        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await _settle(app, pilot)
        stored, _ = _fresh(home, run_id)
        assert stored.status == "closed" and stored.numbers == NUMBERS
        assert screen.query_one("#notes-spend", TextArea).read_only

        await pilot.press("m")
        await _settle(app, pilot)
        path = home.path / "minutes" / f"monthly_review-2026-10-{run_id}.md"
        assert screen.exported_path == path
        text = path.read_text(encoding="utf-8")
        assert "> **Notes.** cut \\| \\`nat\\`\\\n> \\# two" in text and "Right-size search" in text
        assert '"team": "[web]"' in text  # figures in a shape the minutes do not read, shown as frozen


async def test_reopening_an_open_run_resumes_it(home) -> None:
    ids = _people(home)
    with home.records.write() as s:
        run = runs.open_run(s, "monthly_review", "2026-10", ids["ana"], home.clock.now())
        run = runs.save_note(s, run, "spend", "from last time [red]")
        run = runs.set_attendees(s, run, ["ana"])
    app = FinOpsApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = TinyReview(home, "2026-10")
        await app.push_screen(screen)
        await _settle(app, pilot)
        assert screen.run.id == run.id
        assert screen.query_one("#notes-spend", TextArea).text == "from last time [red]"
        assert screen.query_one("#stepper-attendees", SelectionList).selected == ["ana"]
        area = screen.query_one("#notes-spend", TextArea)
        await pilot.press("n")
        area.focus()
        await pilot.press("end", "!")
        await pilot.press("escape")  # the first escape leaves the box, not the ritual
        assert app.screen is screen and not isinstance(app.focused, TextArea)
        await pilot.press("escape")  # leaving saves at once, without waiting for the debounce
        assert app.screen is not screen
        assert _fresh(home, run.id)[0].notes["spend"] == "from last time [red]!"
        await _settle(app, pilot)
    assert _fresh(home, run.id)[0].notes["spend"] == "from last time [red]!"


class LazyReview(TinyReview):
    """TinyReview with its steps composed when first shown; its spend step renders the findings."""

    LAZY_STEPS = True
    rendered: list[str]

    def compose_spend(self):
        yield Static("", id="tiny-spend-body")

    def show_findings(self, findings) -> None:  # type: ignore[no-untyped-def]
        self.rendered = [*getattr(self, "rendered", []), "spend" if self.composed("spend") else "-"]
        if self.composed("spend"):
            self.query_one("#tiny-spend-body", Static).update(f"total {findings.as_json()['total_spend']}")


async def test_a_lazy_step_is_composed_when_first_shown_with_the_run_and_the_figures(home) -> None:
    """Only the first step is composed with the screen; the others when first shown, and then they show
    the run's stored note (editable while the run is open) and the findings already computed."""
    from tests.workers import show_step

    ids = _people(home)
    with home.records.write() as s:
        run = runs.open_run(s, "monthly_review", "2026-10", ids["ana"], home.clock.now())
        runs.save_note(s, run, "spend", "kept [bold]note[/]")
    app = FinOpsApp(home)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = LazyReview(home, "2026-10", facilitator="ana")
        await app.push_screen(screen)
        await _settle(app, pilot)
        assert screen.findings is not None and screen.rendered == ["-"]  # computed; the spend step not there
        assert not screen.query("#tiny-spend-body") and not screen.query("#notes-spend")
        assert not screen.query("#stepper-summary")  # the Record step neither
        assert screen.query("#stepper-attendees")  # the first step is
        await show_step(pilot, screen, "spend")
        assert screen.rendered == ["-", "spend"]  # rendered again into the new step only
        assert str(screen.query_one("#tiny-spend-body", Static).render()) == "total 1234.5"
        area = screen.query_one("#notes-spend", TextArea)
        assert area.text == "kept [bold]note[/]" and not area.read_only
        await show_step(pilot, screen, "record")
        await _settle(app, pilot)
        summary = screen.query_one("#stepper-summary").source  # type: ignore[attr-defined]
        assert summary.startswith("## Summary")  # the preview rendered into the step just composed
        await show_step(pilot, screen, "spend")  # composed once
        assert len(screen.query("#tiny-spend-body")) == 1
