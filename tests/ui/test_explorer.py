"""The explorer screen on the demo company: opened from the board, Enter drills team -> service -> resource
and Backspace comes back, the figures are ``rituals.explorer.explore``'s; the tag sweep and triage open it on
what they show; a saved view from the config is listed and opens; a snapshot at 120 x 40."""

from __future__ import annotations

from textual.widgets import Select

from finops_tui.app import FinOpsApp
from finops_tui.screens.explorer import ExplorerScreen
from finops_tui.widgets.data_table import FrameTable
from rituals.explorer import explore
from storage.config import ExplorerView, load_config
from tests.workers import workers_done


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()


async def _until(pilot, condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    waited = 0.0
    while not condition():
        assert waited < timeout, "timed out waiting for the screen"
        await pilot.pause(0.05)
        waited += 0.05


def _rows(screen: ExplorerScreen) -> list[tuple[str, ...]]:
    table = screen.query_one(FrameTable)
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_drill_down_and_back_up(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExplorerScreen)
        top = explore(demo_home, ExplorerView())
        assert screen.exploration.as_json() == top.as_json()
        assert _rows(screen)[0][0] == top.rows[0].values["team"]
        await pilot.press("enter")  # the first team, by service
        await settle(pilot)
        first = top.rows[0]
        assert screen.view.group_by == ("service",)
        assert screen.view.filters == (("team", (first.values["team"],)),)
        assert round(screen.exploration.total, 2) == round(first.cost, 2)
        service = screen.exploration.rows[0]
        await pilot.press("enter")  # its largest service, by resource
        await settle(pilot)
        assert screen.view.group_by == ("resource",)
        assert dict(screen.view.filters) == {"team": (first.values["team"],), "service": (service.values["service"],)}
        assert round(screen.exploration.total, 2) == round(service.cost, 2)
        assert screen.query_one("#explorer-filters").value == (
            f"team={first.values['team']}; service={service.values['service']}")
        await pilot.press("backspace", "backspace")
        await settle(pilot)
        assert screen.view == ExplorerView() and screen.exploration.as_json() == top.as_json()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExplorerScreen)


async def test_tag_sweep_opens_the_explorer_on_its_window(demo_home) -> None:
    from finops_tui.screens.tag_sweep import TagSweepScreen

    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        sweep = TagSweepScreen(demo_home, facilitator="priya")
        await app.push_screen(sweep)
        await settle(pilot)
        app.screen.query_one("#stepper-steps").focus()
        await pilot.press("X")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExplorerScreen)
        assert (screen.exploration.start, screen.exploration.end) == sweep.session.window
        assert screen.view.group_by == ("team",) and screen.view.filters == (("charge_category", ("Usage",)),)


async def test_triage_opens_the_explorer_on_the_highlighted_case(demo_home) -> None:
    from textual.widgets import DataTable

    from finops_tui.screens.anomaly_triage import AnomalyTriageScreen

    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        triage = AnomalyTriageScreen(demo_home)
        await app.push_screen(triage)
        await settle(pilot)
        queue = triage.query_one("#anomaly-queue", DataTable)
        queue.focus()
        await _until(pilot, lambda: triage.cases)
        row = next(i for i, c in enumerate(triage.cases) if c["dimension"] == "service")
        queue.move_cursor(row=row)
        await _until(pilot, lambda: triage.selected == triage.cases[row]["id"])  # the highlight is a message
        await settle(pilot)
        case = triage.case
        assert case is not None and case["id"] == triage.cases[row]["id"]
        await pilot.press("X")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExplorerScreen)
        assert screen.view.filters == (("service", (case["value"],)),) and screen.view.group_by == ("resource",)
        assert (screen.exploration.start, screen.exploration.end) == (case["start"], case["end"])
        # the case's days against as many days before: the explorer shows the spike as a change
        assert screen.exploration.change > 0


async def test_a_saved_view_from_the_config_opens(demo_home) -> None:
    path = demo_home.path / "finops-tui.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[explorer.views.prod-services]\ngroup_by = ["service"]\n'
                    'filters = ["env=prod"]\npreset = "last_month"\ngranularity = "week"\n', encoding="utf-8")
    saved = load_config(demo_home.path).explorer_views["prod-services"]
    demo_home.__dict__.pop("config", None)  # the fixture's home read the config before the view was added
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_explorer()
        await settle(pilot)
        screen = app.screen
        screen.query_one("#explorer-saved", Select).value = "prod-services"
        await settle(pilot)
        assert screen.view == saved
        assert screen.exploration.as_json() == explore(demo_home, saved).as_json()
        assert screen.query_one("#explorer-granularity", Select).value == "week"


def test_explorer_snapshot(demo_home, snap_compare) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(FinOpsApp(demo_home), terminal_size=(120, 40), run_before=run_before)
