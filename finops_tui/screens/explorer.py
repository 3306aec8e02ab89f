"""The spend explorer: group-by and filter lines, a window preset (or custom dates), granularity and cost
column, a line chart of the largest groups above the table (totals and change against the period before).
Enter on a row drills down (the row becomes a filter, the view groups by the next dimension: team ->
service -> resource); Backspace goes back up; ``v`` saves the view by name in the config. The figures come
from ``rituals.explorer.explore``, the function ``finops-tui explore`` prints."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Select, Static
from textual.worker import get_current_worker

from exports.format import money, pct
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.trend_chart import TrendChart
from rituals.explorer import PRESET_LABELS, change_text, drill_down, filter_line, parse_filter_line
from storage.config import EXPLORER_COSTS, EXPLORER_GRAINS, ExplorerView, build_view, merge_filters

LABELS = {"team": "Team", "account": "Account", "service": "Service", "region": "Region",
          "charge_category": "Charge category", "resource": "Resource", "cost": "Cost",
          "previous_cost": "Previous", "change": "Change", "change_pct": "Change %"}
NO_SAVED = "(saved views)"


def _signed(value: Any) -> str:
    return f"{value:+,.2f}"


class ExplorerScreen(Screen[None]):
    DEFAULT_CSS = """
    ExplorerScreen #explorer { padding: 0 1; }
    ExplorerScreen .explorer-controls { height: 3; }
    ExplorerScreen #explorer-group-by { width: 30; }
    ExplorerScreen #explorer-filters { width: 1fr; }
    ExplorerScreen #explorer-preset { width: 22; }
    ExplorerScreen #explorer-start, ExplorerScreen #explorer-end { width: 16; }
    ExplorerScreen #explorer-granularity { width: 14; }
    ExplorerScreen #explorer-cost { width: 21; }
    ExplorerScreen #explorer-saved { width: 1fr; }
    ExplorerScreen .explorer-line { height: auto; color: $text-muted; }
    ExplorerScreen #explorer-problem { height: auto; color: $error; }
    ExplorerScreen TrendChart { height: 1fr; min-height: 6; max-height: 12; }
    ExplorerScreen FrameTable { height: 2fr; min-height: 4; }
    """
    BINDINGS = [
        Binding("backspace", "drill_up", "Up a level", id="explorer-up"),
        Binding("v", "save_view", "Save view", id="explorer-save"),
        Binding("escape", "leave", "Leave", id="explorer-leave"),
    ]

    def __init__(self, home: Any, view: ExplorerView | None = None) -> None:
        super().__init__(name="explorer")
        self.home = home
        self.view = view or ExplorerView()
        self.history: list[ExplorerView] = []
        self.exploration: Any = None  # rituals.explorer.Exploration once loaded
        self.saved: dict[str, ExplorerView] = dict(home.config.explorer_views)  # by name, as in the config

    def compose(self) -> ComposeResult:
        v = self.view
        yield Header()
        with Vertical(id="explorer"):
            with Horizontal(classes="explorer-controls"):
                yield Input(",".join(v.group_by), placeholder="group by: team,service", id="explorer-group-by")
                yield Input(filter_line(v), placeholder="filters: team=web,data; tag:environment=prod; "
                            "!service=Tax", id="explorer-filters")
            with Horizontal(classes="explorer-controls"):
                yield Select([(label, key) for key, label in PRESET_LABELS.items()], value=v.preset,
                             allow_blank=False, id="explorer-preset")
                yield Input(v.start.isoformat() if v.start else "", placeholder="start", id="explorer-start")
                yield Input(v.end.isoformat() if v.end else "", placeholder="end (excl.)", id="explorer-end")
                yield Select([(g, g) for g in EXPLORER_GRAINS], value=v.granularity, allow_blank=False,
                             id="explorer-granularity")
                yield Select([(c, key) for key, c in EXPLORER_COSTS.items()], value=v.cost, allow_blank=False,
                             id="explorer-cost")
                yield Select([(name, name) for name in sorted(self.saved)], prompt=NO_SAVED, id="explorer-saved")
            yield Static("", id="explorer-problem", markup=False)
            yield Static("Loading…", id="explorer-summary", classes="explorer-line", markup=False)
            yield Static("", id="explorer-path", classes="explorer-line", markup=False)
            yield TrendChart("Spend", id="explorer-chart")
            yield FrameTable(id="explorer-table", export_name="explorer")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Explorer"
        self._custom_dates(self.view.preset == "custom")
        self.query_one(FrameTable).focus()
        self.load()

    def _custom_dates(self, shown: bool) -> None:
        for widget in self.query("#explorer-start, #explorer-end").results(Input):
            widget.display = shown

    # -- loading --------------------------------------------------------------------------------------------
    def load(self) -> None:
        self.query_one("#explorer-summary", Static).update("Loading…")
        self._load(self.view)

    @work(thread=True, exclusive=True, group="explorer")
    def _load(self, view: ExplorerView) -> None:
        from rituals.explorer import explore

        try:
            result = explore(self.home, view)
        except (ValueError, RuntimeError) as exc:
            self.app.call_from_thread(self._problem, str(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, result)

    def _problem(self, message: str) -> None:
        self.query_one("#explorer-problem", Static).update(Text(message))

    def _show(self, e: Any) -> None:
        self.exploration = e
        self._problem("")
        cur = e.currency
        self.query_one("#explorer-summary", Static).update(Text(
            f"{e.start} to {e.end} (end exclusive), {e.cost_column}: {money(e.total, cur, decimals=2)}; "
            f"{change_text(e)}"))
        depth = f" (drilled {len(self.history)} down; Backspace goes up)" if self.history else ""
        self.query_one("#explorer-path", Static).update(Text(
            f"by {', '.join(e.view.group_by)}; {filter_line(e.view) or 'all spend'}{depth}"))
        chart = self.query_one(TrendChart)
        chart.plot(e.chart_series(), title=f"{e.cost_column} per {e.view.granularity}, largest groups",
                   y_label=cur)
        fmt = {"cost": lambda v: money(v, decimals=2), "previous_cost": lambda v: money(v, decimals=2),
               "change": _signed, "change_pct": pct}
        labels = {d: LABELS.get(d, d) for d in e.view.group_by} | LABELS
        frame = e.frame()
        for d in e.view.group_by:
            frame[d] = frame[d].map(lambda v: "(none)" if v is None else v)
        table = self.query_one(FrameTable)
        table.export_name = "explorer-" + "-".join(e.view.group_by)
        table.load_frame(frame, fmt, labels)

    # -- controls -------------------------------------------------------------------------------------------
    def _view_from_controls(self) -> ExplorerView | None:
        group = self.query_one("#explorer-group-by", Input).value
        preset = self.query_one("#explorer-preset", Select).value
        try:
            from storage.clock import parse_date

            filters, excludes = parse_filter_line(self.query_one("#explorer-filters", Input).value,
                                                  self.home.config.taxonomy)
            start = end = None
            if preset == "custom":
                start = parse_date(self.query_one("#explorer-start", Input).value, "start")
                end = parse_date(self.query_one("#explorer-end", Input).value, "end")
            view = build_view(group_by=group.split(","), filters=[], excludes=[], preset=str(preset),
                              start=start, end=end,
                              granularity=str(self.query_one("#explorer-granularity", Select).value),
                              cost=str(self.query_one("#explorer-cost", Select).value),
                              taxonomy=self.home.config.taxonomy)
        except ValueError as exc:
            self._problem(str(exc))
            return None
        return ExplorerView(view.group_by, merge_filters(list(filters)), merge_filters(list(excludes)),
                            view.preset, view.start, view.end, view.granularity, view.cost)

    def set_view(self, view: ExplorerView, *, remember: bool = False) -> None:
        """Show ``view``: the controls follow it (``remember``: Backspace comes back to the current one)."""
        if remember:
            self.history.append(self.view)
        self.view = view
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#explorer-group-by", Input).value = ",".join(view.group_by)
            self.query_one("#explorer-filters", Input).value = filter_line(view)
            self.query_one("#explorer-preset", Select).value = view.preset
            self.query_one("#explorer-start", Input).value = view.start.isoformat() if view.start else ""
            self.query_one("#explorer-end", Input).value = view.end.isoformat() if view.end else ""
            self.query_one("#explorer-granularity", Select).value = view.granularity
            self.query_one("#explorer-cost", Select).value = view.cost
        self._custom_dates(view.preset == "custom")
        self.load()

    def _apply_controls(self) -> None:
        view = self._view_from_controls()
        if view is not None and view != self.view:
            self.set_view(view)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self._apply_controls()

    @on(Select.Changed, "#explorer-preset, #explorer-granularity, #explorer-cost")
    def _changed(self, event: Select.Changed) -> None:
        if event.select.id == "explorer-preset":
            custom = event.value == "custom"
            self._custom_dates(custom)
            if custom:
                start = self.exploration.start if self.exploration else None
                end = self.exploration.end if self.exploration else None
                if start and end and not self.query_one("#explorer-start", Input).value:
                    self.query_one("#explorer-start", Input).value = start.isoformat()
                    self.query_one("#explorer-end", Input).value = end.isoformat()
        self._apply_controls()

    @on(Select.Changed, "#explorer-saved")
    def _open_saved(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            view = self.saved.get(event.value)
            if view is not None:
                self.set_view(view, remember=True)

    # -- drill-down -----------------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#explorer-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.drill(event.cursor_row)

    def drill(self, index: int) -> None:
        if self.exploration is None or not 0 <= index < len(self.exploration.rows):
            return
        row = self.exploration.rows[index]
        try:
            view = drill_down(self.exploration.view, row.values)
        except ValueError as exc:
            self.notify(str(exc), markup=False)
            return
        self.set_view(view, remember=True)

    def action_drill_up(self) -> None:
        if not self.history:
            self.notify("This is the top of the drill-down.", markup=False)
            return
        self.set_view(self.history.pop())

    def action_save_view(self) -> None:
        self._save_view()

    @work(exclusive=True, group="explorer-save")
    async def _save_view(self) -> None:
        from finops_tui.modals.pick import TextPrompt
        from storage.config import ConfigError, save_explorer_view

        name = await self.app.push_screen_wait(TextPrompt("Save this view as (letters, digits, - and _)"))
        if not name:
            return
        try:
            path = save_explorer_view(self.home.path, name, self.view)
        except (ValueError, ConfigError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.saved[name] = self.view
        with self.prevent(Select.Changed):
            self.query_one("#explorer-saved", Select).set_options([(n, n) for n in sorted(self.saved)])
        self.notify(f"Saved the view {name!r} in {path}", markup=False)

    def action_leave(self) -> None:
        self.app.pop_screen()

