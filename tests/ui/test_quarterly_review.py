"""The quarterly review driven by Pilot on the demo company: a whole review records the scores, an override
with its reason, the next quarter's choice and the chosen gaps' actions, and freezes the scorecard."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import Input, Select, SelectionList

from finops_tui.app import FinOpsApp
from finops_tui.modals.confirm import Confirm
from finops_tui.screens.quarterly_review import QuarterlyReviewScreen
from finops_tui.widgets.data_table import FrameTable
from rituals.maturity import stored_scores
from storage.records import Action, RitualRun
from tests.ui.buttons import click_button
from tests.workers import show_step, workers_done


async def _settle(app, pilot) -> None:
    await workers_done(app)
    await pilot.pause()


def _stored_state(home, run_id: int):
    """The overrides, targets and choice the stored run's decisions give."""
    from rituals.definitions.quarterly_review import decisions_state

    with home.records.session() as s:
        return decisions_state(s.get(RitualRun, run_id).decisions)


async def test_a_whole_review_records_scores_overrides_and_the_choice(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = QuarterlyReviewScreen(demo_home, facilitator="priya")
        await app.push_screen(screen)
        await _settle(app, pilot)
        assert screen.run is not None and screen.run.period == "2026-Q3"
        assert [s.id for s in screen.steps][1:4] == ["scorecard", "maturity", "gaps"]
        await show_step(pilot, screen, "scorecard")
        assert screen.query_one("#qr-scorecard", FrameTable).row_count == len(screen.findings.as_json()["kpis"])

        await show_step(pilot, screen, "maturity")
        grid = screen.query_one("#qr-grid", FrameTable)
        ids = [c.id for c in screen.findings.capabilities]
        proposed = {p.capability: p.stage for p in screen.findings.proposals}
        assert proposed["cadence"] == "walk" and proposed["anomalies"] is None
        # Override allocation without a reason: refused; with one: recorded.
        grid.move_cursor(row=ids.index("allocation"))
        screen.query_one("#qr-override-stage", Select).value = "walk"
        await click_button(pilot, "#qr-apply")
        await _settle(app, pilot)
        assert "allocation" not in _stored_state(demo_home, screen.run.id)[0]
        screen.query_one("#qr-reason", Input).value = "Shared [platform] costs are split by rule now"
        await click_button(pilot, "#qr-apply")
        await _settle(app, pilot)
        # Recorded as a run decision: it survives a restart and is in the minutes' decisions.
        assert _stored_state(demo_home, screen.run.id)[0]["allocation"] == (
            "walk", "Shared [platform] costs are split by rule now")

        await show_step(pilot, screen, "gaps")
        choice = screen.query_one("#qr-choice", SelectionList)
        choice.select("anomalies")
        await _settle(app, pilot)
        assert _stored_state(demo_home, screen.run.id)[2] == ["anomalies"]

        screen.action_close_run()
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, Confirm):
                break
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await _settle(app, pilot)

    with demo_home.records.session() as s:
        run = s.get(RitualRun, screen.run.id)
        assert run.status == "closed"
        assert run.numbers["chosen"] == ["anomalies"]
        assert run.numbers["kpis"]["quarter"] == "2026-Q3"
        rows = {r.capability: r for r in stored_scores(s, run.id)}
        assert set(rows) == set(ids)
        alloc = rows["allocation"]
        assert alloc.stage == "walk" and alloc.proposed_stage == "crawl" and alloc.overridden
        assert alloc.reason == "Shared [platform] costs are split by rule now"
        assert rows["anomalies"].chosen and rows["anomalies"].stage is None
        actions = s.exec(select(Action).where(Action.source_run_id == run.id)).all()
        assert [a.title.split(":")[0] for a in actions] == ["Anomalies"]
        assert [(d["step"], d["detail"]["kind"]) for d in run.decisions] == [
            ("maturity", "maturity_override"), ("gaps", "maturity_choice")]
