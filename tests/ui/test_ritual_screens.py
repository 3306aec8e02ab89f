"""Every ritual screen on the stepper, over the five kinds of the registry, on the demo company: one decision
typed and entered once is stored once, one attendee ticked is one write, and one press of "New action"
opens one form. Textual runs the handler of every class in a screen's hierarchy, so a screen whose handler
also called super() (the monthly review's decision input, the quarterly review's selection lists) saved
every decision, or the attendees, twice. A run opened by mistake is discarded with ctrl+d; one holding a
decision is not."""

from __future__ import annotations

import pytest
from textual.widgets import Input, SelectionList

from finops_tui.app import FinOpsApp
from finops_tui.modals.action_form import ActionForm
from finops_tui.modals.confirm import Confirm
from finops_tui.screens.registry import ritual_screen
from rituals.ritual import RITUALS
from storage.db import Records
from storage.records import RitualRun
from tests.ui.buttons import click_button
from tests.workers import workers_done


async def _settle(app, pilot) -> None:
    for _ in range(2):
        await workers_done(app)
        await pilot.pause()


async def _until(pilot, condition, timeout: float = 60.0) -> None:
    waited = 0.0
    while not condition():
        assert waited < timeout, "timed out waiting for the screen"
        await pilot.pause(0.05)
        waited += 0.05


def _stored(home, run_id: int) -> RitualRun | None:
    """The run as another process reads it (a fresh engine on the same file)."""
    other = Records(home.records_url, migrate=False)
    try:
        with other.session() as s:
            return s.get(RitualRun, run_id)
    finally:
        other.dispose()


async def _open(app, pilot, kind: str, home):
    await _settle(app, pilot)
    screen = ritual_screen(kind, home)
    await app.push_screen(screen)
    await _settle(app, pilot)
    assert screen.run is not None and screen.run.kind == kind
    return screen


@pytest.mark.parametrize("kind", [r.kind for r in RITUALS])
async def test_one_decision_entered_once_is_stored_once(demo_home, kind: str) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await _open(app, pilot, kind, demo_home)
        version = _stored(demo_home, screen.run.id).version
        attendees = screen.query_one("#stepper-attendees", SelectionList)
        handle = next(o.value for o in attendees.options if o.value not in attendees.selected)
        attendees.select(handle)
        await _settle(app, pilot)
        stored = _stored(demo_home, screen.run.id)
        assert handle in stored.attendees and stored.version == version + 1  # one write, not two
        assert not [n.message for n in app._notifications if n.severity == "error"]  # nor a refused second

        screen.go_to("decisions")
        screen.query_one("#stepper-decision-input", Input).focus()
        await pilot.press(*"Keep the [prod] budget", "enter")
        await _settle(app, pilot)
        stored = _stored(demo_home, screen.run.id)
        assert [(d["text"], d["step"]) for d in stored.decisions] == [("Keep the [prod] budget", "decisions")]
        assert stored.version == version + 2

        screen.query_one("#stepper-new-action-button").scroll_visible(animate=False)
        await pilot.pause()
        await click_button(pilot, "#stepper-new-action-button")
        await _until(pilot, lambda: isinstance(app.screen, ActionForm))
        await pilot.pause(0.3)
        assert sum(isinstance(s, ActionForm) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await _settle(app, pilot)
        assert app.screen is screen


async def test_a_run_opened_by_mistake_is_discarded_and_a_recorded_one_is_not(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot, "tag_sweep", demo_home)
        run_id = screen.run.id
        screen.query_one("#stepper-steps").focus()
        await pilot.press("ctrl+d")
        await _until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")  # not discarded
        await _settle(app, pilot)
        assert app.screen is screen and _stored(demo_home, run_id) is not None
        await pilot.press("ctrl+d")
        await _until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await _until(pilot, lambda: app.screen is not screen)
        await _settle(app, pilot)
        assert _stored(demo_home, run_id) is None

        screen = await _open(app, pilot, "tag_sweep", demo_home)
        screen.query_one("#stepper-decision-input", Input).focus()
        await pilot.press(*"Sweep again on Friday", "enter")
        await _settle(app, pilot)
        screen.query_one("#stepper-steps").focus()
        await pilot.press("ctrl+d")
        await _settle(app, pilot)
        assert app.screen is screen  # refused with a notice, no question asked
        assert any("cannot be discarded" in n.message for n in app._notifications)
        assert _stored(demo_home, screen.run.id).status == "open"
