"""The anomaly triage screen driven by Pilot on the demo company: the queue lists the live anomaly first,
acknowledging and resolving a case store its timestamps, a case action goes to the team's owner, and
closing the run freezes the headless numbers. Stored state is read back through a fresh connection."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import DataTable

from finops_tui.app import FinOpsApp
from finops_tui.modals.confirm import Confirm
from finops_tui.modals.pick import PickOne
from finops_tui.screens.anomaly_triage import AnomalyTriageScreen
from storage.db import Records
from storage.records import Action, AnomalyCase, RitualRun, Team
from tests.workers import workers_done


async def _settle(app, pilot) -> None:
    for _ in range(3):
        await workers_done(app)
        await pilot.pause()


async def _until(pilot, condition, timeout: float = 60.0) -> None:
    """Pause until ``condition()`` holds (a dialog worker waits for input, so workers never all finish)."""
    waited = 0.0
    while not condition():
        assert waited < timeout, "timed out waiting for the screen"
        await pilot.pause(0.05)
        waited += 0.05


async def _open_triage(app, pilot, home) -> AnomalyTriageScreen:
    await _settle(app, pilot)
    screen = AnomalyTriageScreen(home)
    await app.push_screen(screen)
    await _settle(app, pilot)
    return screen


def _stored(home):
    other = Records(home.records_url, migrate=False)
    try:
        with other.session() as s:
            cases = {c.id: c for c in s.exec(select(AnomalyCase))}
            runs = list(s.exec(select(RitualRun).where(RitualRun.kind == "anomaly_triage")))
            actions = list(s.exec(select(Action).where(Action.entity_kind == "anomaly_case")))
            teams = {t.id: t for t in s.exec(select(Team))}
        return cases, runs, actions, teams
    finally:
        other.dispose()


async def test_acknowledging_and_resolving_a_case_stores_timestamps_and_a_recorded_run(demo_home, demo_truth):
    reindex = next(x for x in demo_truth.anomalies if x.key == "reindex")
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(180, 50)) as pilot:
        screen = await _open_triage(app, pilot, demo_home)
        queue = screen.query_one("#anomaly-queue", DataTable)
        assert queue.row_count == len(screen.cases) >= 3
        # Untriaged live cases first; the search re-index is the live anomaly.
        first = screen.cases[0]
        assert first["status"] == "new" and not first["historical"] and first["start"] == reindex.start
        target = next(i for i, c in enumerate(screen.cases) if c["dimension"] == "service"
                      and c["start"] == reindex.start)
        queue.focus()
        queue.move_cursor(row=target)
        await pilot.pause()
        cid = screen.selected
        assert screen.case["value"] == reindex.service

        await pilot.press("k")
        await _settle(app, pilot)
        cases, _runs, _actions, _teams = _stored(demo_home)
        assert cases[cid].status == "acknowledged" and cases[cid].acknowledged_at is not None
        assert cases[cid].resolved_at is None

        await pilot.press("x")
        await _settle(app, pilot)

        await pilot.press("s")
        await _until(pilot, lambda: isinstance(app.screen, PickOne))
        await pilot.press("down", "down", "enter")  # acknowledged -> investigating -> resolved
        await _until(pilot, lambda: isinstance(app.screen, PickOne) and "category" in app.screen.title_text)
        await pilot.press("escape")
        await _until(pilot, lambda: next(c for c in screen.cases if c["id"] == cid)["status"] == "resolved")
        await _settle(app, pilot)
        cases, _runs, actions, teams = _stored(demo_home)
        case = cases[cid]
        assert case.status == "resolved" and case.resolved_at >= case.acknowledged_at
        assert [h["field"] for h in case.history] == ["detected", "status", "action", "status"]
        (action,) = actions
        assert action.entity_key == cid and action.owner_id == teams[case.owner_team_id].owner_id
        assert next(c for c in screen.cases if c["id"] == cid)["status"] == "resolved"

        await pilot.press("c")
        await _until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await _until(pilot, lambda: screen.run is not None and screen.run.status == "closed")
        await _settle(app, pilot)
        _cases, runs, actions, _teams = _stored(demo_home)
        (run,) = runs
        assert run.status == "closed" and action.source_run_id == run.id
        frozen = {a["id"]: a for a in run.numbers["anomalies"]}
        assert frozen[cid]["status"] == "resolved" and frozen[cid]["ttr_hours"] is not None
        assert run.numbers["kpis"]["ttd"]["n"] == 1
        # Each case change of the triage is one decision of the run, in the list every ritual shares.
        assert [(d["text"], d["step"], d["detail"]["case"]) for d in run.decisions] == [
            (f"Case {cid} acknowledged", "queue", cid), (f"Case {cid} is resolved", "queue", cid)]


async def test_shift_k_acknowledges_the_whole_event(demo_home, demo_truth):
    reindex = next(x for x in demo_truth.anomalies if x.key == "reindex")
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(180, 50)) as pilot:
        screen = await _open_triage(app, pilot, demo_home)
        event = [c for c in screen.cases if c["start"] == reindex.start]
        assert len(event) == 3 and len({c["event"] for c in event}) == 1
        queue = screen.query_one("#anomaly-queue", DataTable)
        queue.focus()
        queue.move_cursor(row=screen.cases.index(event[-1]))
        await pilot.pause()
        await pilot.press("K")
        await _until(pilot, lambda: all(c["status"] == "acknowledged" for c in screen.cases
                                        if c["id"] in {e["id"] for e in event}))
        await _settle(app, pilot)
        cases, _runs, _actions, _teams = _stored(demo_home)
        assert {cases[c["id"]].status for c in event} == {"acknowledged"}
        assert all(cases[c["id"]].acknowledged_at is not None for c in event)
        # Cases of other events are untouched.
        assert all(c.status == "new" for cid, c in cases.items() if cid not in {e["id"] for e in event})
