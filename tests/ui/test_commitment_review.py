"""The commitment review driven by Pilot on the demo company: the five steps are walked, a renew decision
is recorded with the RACI's approver and an action, and closing freezes the headless figures."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import Input, Select, Static

from finops_tui.app import FinOpsApp
from finops_tui.modals.confirm import Confirm
from finops_tui.screens.commitment_review import CommitmentReviewScreen
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.kpi_strip import KpiStrip
from rituals import runs
from rituals.commitment_review import review
from rituals.raci import accountable_for
from storage.records import Action
from tests.ui.buttons import click_button
from tests.workers import workers_done


async def _settle(app, pilot) -> None:
    await workers_done(app)
    await pilot.pause()


async def test_walk_the_five_steps_and_record_a_decision(demo_home) -> None:
    expected = review(demo_home)
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = CommitmentReviewScreen(demo_home, facilitator="priya")
        await app.push_screen(screen)
        await _settle(app, pilot)
        assert screen.run is not None and screen.run.kind == "commitment_review"
        titles = [s.title for s in screen.steps]
        assert titles[1:5] == ["Coverage and utilization", "Expiring", "Baseline and what-if", "Decision"]
        assert titles[-1] == "Record"

        screen.query_one("#stepper-steps").focus()
        await pilot.press("n")
        assert screen.steps[screen.step_index].id == "coverage"
        kpis = {k.label: k.value for k in screen.query_one("#cr-kpis", KpiStrip).kpis}
        assert kpis["Coverage"] == f"{expected['coverage_pct']:.1f}%"
        # Four eligible services and the unused part of each of the three commitments.
        assert screen.query_one("#cr-by-service", FrameTable).row_count == len(expected["by_service"]) == 4 + 3
        programs = screen.query_one("#cr-programs", FrameTable)
        assert programs.row_count == len(expected["programs"])
        assert [str(programs.get_row_at(i)[0]) for i in range(programs.row_count)] == [
            p["program"] for p in expected["programs"]]
        assert "Savings Plans and reservations together" in str(screen.query_one("#cr-basis", Static).render())

        await pilot.press("n")
        note = str(screen.query_one("#cr-expiring-note", Static).render())
        assert "sp-1yr-compute-b" in note and "45 days" in note
        assert screen.query_one("#cr-inventory", FrameTable).row_count == 3

        await pilot.press("n")
        assert screen.steps[screen.step_index].id == "baseline"
        assert screen.query_one("#cr-what-if", FrameTable).row_count == len(expected["what_if"])
        assert "Baseline:" in str(screen.query_one("#cr-baseline", Static).render())

        await pilot.press("n")
        assert screen.steps[screen.step_index].id == "decision"
        # The form starts from the plan's suggestion.
        assert screen.query_one("#cr-choice", Select).value == "renew"
        assert screen.query_one("#cr-amount", Input).value == f"{expected['recommended_additional_hourly']:.2f}"
        screen.query_one("#cr-amount", Input).value = "7.5"
        screen.query_one("#cr-rationale", Input).value = "Renew [sp-b] at the right-sized baseline"
        await click_button(pilot, "#cr-record-decision")
        await _settle(app, pilot)

        with demo_home.records.session() as s:
            run = runs.get_run(s, screen.run.id)
            approver = accountable_for(s, "Commitment purchase (SP / RI)")
            actions = list(s.exec(select(Action).where(Action.source_run_id == run.id)))
        detail = run.decisions[-1]["detail"]
        assert detail["choice"] == "renew" and detail["hourly_amount"] == 7.5
        assert detail["approver"] == approver.handle
        assert detail["rationale"] == "Renew [sp-b] at the right-sized baseline"
        assert [a.kind for a in actions] == ["commitment"]

        screen.query_one("#stepper-steps").focus()
        await pilot.press("c")
        for _ in range(100):  # the close flow computes the numbers in a thread, then asks
            if isinstance(app.screen, Confirm):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await _settle(app, pilot)

    with demo_home.records.session() as s:
        closed = runs.get_run(s, run.id)
    assert closed.status == "closed"
    assert closed.numbers["coverage_pct"] == expected["coverage_pct"]
    assert closed.numbers["expiring"][0]["end_date"] == expected["expiring"][0]["end_date"].isoformat()

    from exports.minutes import render_minutes

    with demo_home.records.session() as s:
        text = render_minutes(s, run.id, "USD")
    decision = text[text.index("\n## Decision\n"):text.index("\n## Appendix\n")]
    assert "- **Renew**: 7.50 USD an hour, 1 year, No Upfront; approver" in decision
    assert "Rationale: Renew [sp-b] at the right-sized baseline" in decision  # inert as typed: no link


async def test_the_expiring_step_lists_negotiated_contracts_apart(demo_home, tmp_path) -> None:
    from storage.sources.files import import_files

    cc = tmp_path / "contract_commitment.csv"
    cc.write_text("ContractId,ContractCommitmentId,ContractCommitmentCategory,ContractCommitmentCost,"
                  "ContractCommitmentPeriodStart,ContractCommitmentPeriodEnd,ContractCommitmentDescription\n"
                  "edp-1,edp-1-y1,Spend,120000,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,[EDP] year 1\n")
    before = review(demo_home)
    assert import_files(demo_home.costs, [cc]).load.contracts == 1
    expected = review(demo_home)
    assert expected["programs"] == before["programs"] and expected["coverage_pct"] == before["coverage_pct"]
    [contract] = expected["contracts"]["contracts"]
    assert (contract["committed"], contract["applied"], contract["remaining"]) == (120000.0, 0.0, 120000.0)
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = CommitmentReviewScreen(demo_home, facilitator="priya")
        await app.push_screen(screen)
        await _settle(app, pilot)
        screen.query_one("#stepper-steps").focus()
        await pilot.press("n", "n")
        await _settle(app, pilot)
        table = screen.query_one("#cr-contracts", FrameTable)
        assert table.row_count == 1
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[0] == "edp-1-y1" and "120,000.00" in cells
        assert f"{contract['burned_pct']:.1f}%" in cells and f"{contract['elapsed_pct']:.1f}%" in cells
        assert screen.query_one("#cr-inventory", FrameTable).row_count == len(expected["inventory"])
