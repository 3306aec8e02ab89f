"""The tag sweep screen on the demo company, driven by Pilot: the five steps, fixes created in bulk for their
owners, a verified fix closed, and the run recorded with exactly the `sweep --json` numbers."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select
from textual.widgets import SelectionList, Static

from finops_tui.app import FinOpsApp
from finops_tui.modals.confirm import Confirm
from finops_tui.screens.tag_sweep import TagSweepScreen
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.kpi_strip import KpiStrip
from rituals.tag_fixes import compute_sweep
from storage.records import Action, Person, RitualRun
from tests.conftest import FIXED_TODAY
from tests.ui.buttons import click_button
from tests.workers import workers_done


async def settle(app, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await workers_done(app)
    await pilot.pause()


async def test_walking_the_sweep_creates_fixes_and_records_the_run(demo_home) -> None:
    window = (FIXED_TODAY - timedelta(days=7), FIXED_TODAY)
    want = compute_sweep(demo_home, *window)
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(130, 44)) as pilot:
        await settle(app, pilot)
        screen = TagSweepScreen(demo_home, facilitator="priya")
        await app.push_screen(screen)
        await settle(app, pilot)
        assert screen.run is not None and screen.run.kind == "tag_sweep" and screen.run.period == "2026-W48"
        screen.query_one("#stepper-steps").focus()

        await pilot.press("n")  # 2. Coverage
        assert screen.steps[screen.step_index].id == "coverage"
        kpis = {k.label: k.value for k in screen.query_one("#ts-kpis", KpiStrip).kpis}
        assert kpis["Coverage"] == f"{want.coverage.coverage_pct:.1f}%"
        assert screen.query_one("#ts-keys", FrameTable).row_count == len(want.by_key)

        await pilot.press("n")  # 3. Where it leaks: drill the leakiest account down to its resources
        assert screen.steps[screen.step_index].id == "leaks"
        accounts = screen.query_one("#ts-accounts", FrameTable)
        accounts.focus()
        await pilot.press("enter")
        await pilot.pause()
        leaky = want.by_account[0]
        assert str(screen.query_one("#ts-drill-title", Static).render()).endswith(leaky["account_name"])
        drilled = screen.query_one("#ts-resources", FrameTable)
        assert drilled.row_count == len(want.resources_of(leaky["account_id"])) > len(want.top_unallocated) // 2
        assert "marcus" in str(screen.query_one("#ts-unused", Static).render())

        screen.query_one("#stepper-steps").focus()
        await pilot.press("n")  # 4. Variants
        assert screen.query_one("#ts-variants", FrameTable).row_count == len(want.variants) > 0

        await pilot.press("n")  # 5. Assign fixes: the top two resources and an environment spelling
        assert screen.steps[screen.step_index].id == "fixes"
        candidates = screen.candidates
        box = screen.query_one("#ts-candidates", SelectionList)
        payments = next(i for i, c in enumerate(candidates) if c.entity_key == "team=Payments")
        assert box.get_option_at_index(payments).disabled  # the demo's open fix already tracks it
        picks = [0, 1, next(i for i, c in enumerate(candidates) if c.entity_key.startswith("environment="))]
        for i in picks:
            box.select(i)
        await click_button(pilot, "#ts-create")
        await settle(app, pilot)
        with demo_home.records.session() as s:
            made = s.exec(select(Action).where(Action.source_run_id == screen.run.id)).all()
            owners = {p.id: p.handle for p in s.exec(select(Person))}
        assert sorted((a.entity_key, owners[a.owner_id]) for a in made) == sorted(
            (candidates[i].entity_key, candidates[i].owner) for i in picks)
        assert {a.kind for a in made} == {"tag_fix"}
        assert {a.due_date for a in made} == {date(2026, 11, 30)}  # the next Monday sweep
        assert box.get_option_at_index(picks[0]).disabled  # now tracked: not offered twice

        screen.query_one("#stepper-steps").focus()
        await pilot.press("c")  # close: the Record step, confirm, frozen
        for _ in range(100):  # the numbers are computed (in a thread) before the question is asked
            if isinstance(app.screen, Confirm):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(app, pilot)
        assert screen.steps[screen.step_index].id == "record"
    with demo_home.records.session() as s:
        run = s.get(RitualRun, screen.run.id)
    assert run.status == "closed"
    assert run.numbers == _jsonable(compute_sweep(demo_home, *window).as_json())
    assert {c["action_id"] for c in run.numbers["fix_checks"]} >= {a.id for a in made}


def _jsonable(obj):  # type: ignore[no-untyped-def]
    import json

    from rituals.runs import jsonable

    return json.loads(json.dumps(jsonable(obj)))


async def test_the_coverage_is_on_screen_while_the_resources_are_read(demo_home, monkeypatch) -> None:
    """The Coverage step paints from the summed spend: shown while the rest of the findings are still being
    read (held here at the fix checks, which come last), equal to the whole sweep's, then replaced by it."""
    import asyncio
    import threading
    import time

    import rituals.tag_fixes as tag_fixes

    window = (FIXED_TODAY - timedelta(days=7), FIXED_TODAY)
    want = compute_sweep(demo_home, *window)
    gate, reached = threading.Event(), threading.Event()
    real = tag_fixes.check_fixes

    def held_checks(*args, **kwargs):  # type: ignore[no-untyped-def]
        reached.set()
        assert gate.wait(60), "the test never let the fix checks go on"
        return real(*args, **kwargs)

    app = FinOpsApp(demo_home)
    async with app.run_test(size=(130, 44)) as pilot:
        await settle(app, pilot)  # the board computes its figures (a sweep among them) first
        monkeypatch.setattr(tag_fixes, "check_fixes", held_checks)
        screen = TagSweepScreen(demo_home, facilitator="priya")
        await app.push_screen(screen)
        screen.go_to("coverage")  # composed when first shown, then rendered from what is on screen
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            shown = screen.query("#ts-kpis").results(KpiStrip)
            if reached.is_set() and any(k.kpis[0].value != "loading…" for k in shown):
                break
            await asyncio.sleep(0.05)
        try:
            assert reached.is_set() and screen.findings is None  # the findings are still being computed
            kpis = {k.label: k.value for k in screen.query_one("#ts-kpis", KpiStrip).kpis}
            assert kpis["Coverage"] == f"{want.coverage.coverage_pct:.1f}%"
            assert screen.query_one("#ts-keys", FrameTable).row_count == len(want.by_key)
        finally:
            gate.set()
        await settle(app, pilot)
        assert screen.findings is not None and screen.findings.as_json() == want.as_json()
        assert {k.label: k.value for k in screen.query_one("#ts-kpis", KpiStrip).kpis} == kpis
