"""The ritual board: the five rituals with their due dates, the KPI strip, and the open actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from exports.format import counted, day, money, pct
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.kpi_strip import Kpi, KpiStrip
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from storage.home import Home

if TYPE_CHECKING:
    from rich.text import Text

    from rituals.board import Board, BoardKpis, KpiFigures

NO_DATA = "no data"
TITLE_WIDTH = 46  # the full title is on "My actions"; the board must fit 80 columns
RITUAL_LABELS = {"ritual": "Ritual", "status": "Status", "next_due": "Next due", "last_run": "Last run",
                 "cadence": "Cadence"}
ACTION_LABELS = {"id": "#", "action": "Action", "owner": "Owner", "team": "Team", "status": "Status",
                 "due": "Due"}


def kpi_tiles(k: BoardKpis | None, *, stale: bool = False, counts_known: bool = True) -> list[Kpi]:
    """The four tiles; ``stale`` figures (cached before the last change) lose their colour and say so; the
    Actions tile waits for the live counts unless ``counts_known``."""
    if k is None:
        return [Kpi("Allocation, last 7 days", "loading…"), Kpi("Month to date", "loading…"),
                Kpi("Actions", "loading…"), Kpi("Data freshness", "loading…")]
    tiles = _tiles(k)
    if not counts_known:
        tiles = [Kpi("Actions", "loading…") if t.label == "Actions" else t for t in tiles]
    if stale:
        return [t if t.label == "Actions" else Kpi(t.label, t.value, None, "stale, recomputing") for t in tiles]
    return tiles


def _tiles(k: BoardKpis) -> list[Kpi]:
    alloc_status = None
    if k.allocation_pct is not None and k.allocation_target_pct is not None:
        alloc_status = "good" if k.allocation_pct >= k.allocation_target_pct else "warn"
    alloc_hint = f"target {pct(k.allocation_target_pct)}" if k.allocation_target_pct is not None else ""
    whole_month = k.spend_label != "Month to date"
    mtd_status, mtd_hint = None, "no budget for that month" if whole_month else "no budget for this month"
    if k.mtd_spend is not None and k.mtd_budget_prorated:
        ratio = k.mtd_spend / k.mtd_budget_prorated
        mtd_status = "good" if ratio <= 1.0 else ("warn" if ratio <= 1.1 else "bad")
        mtd_hint = (f"vs {money(k.mtd_budget_prorated, k.currency)} budget" if whole_month
                    else f"vs {money(k.mtd_budget_prorated, k.currency)} prorated budget")
    actions = f"{k.open_actions} open, {k.overdue_actions} overdue"
    fresh = f"to {day(k.last_data_day)}" if k.last_data_day else NO_DATA
    fresh_hint = f"{k.data_lag_days} d behind today" if k.data_lag_days is not None else "import or sync data"
    if k.aws_synced_at:
        fresh_hint += f"; AWS synced {k.aws_synced_at[:16].replace('T', ' ')}"
    return [
        Kpi("Allocation, last 7 days", pct(k.allocation_pct), alloc_status, alloc_hint),
        Kpi(k.spend_label, money(k.mtd_spend, k.currency), mtd_status, mtd_hint),
        Kpi("Actions", actions, "bad" if k.overdue_actions else "good"),
        Kpi("Data freshness", fresh, "warn" if (k.data_lag_days or 0) > 3 else None, fresh_hint),
    ]


def undelivered_text(board: Board) -> Text:
    """One line: how many notifications are undelivered, and the oldest one's channel and error (the team,
    channel label and error are data: the whole line passes the sanitiser)."""
    if not board.undelivered:
        return safe_text("")
    first = board.undelivered[0]
    who = first.team or "practice"
    why = first.last_error or "not tried yet"
    return safe_text(f"{counted(len(board.undelivered), 'undelivered notification')}: {first.kind} to {who} via "
                     f"{first.channel}: {why} (finops-tui notify retries)", one_line=True, style="bold red")


class BoardScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "open_ritual", "Open ritual", id="open-ritual", show=False),
        Binding("a", "my_actions", "My actions", id="my-actions"),
        Binding("i", "inbox", "Inbox", id="inbox", show=False),  # the footer must fit 80 columns
        Binding("r", "raci", "RACI", id="raci"),
        Binding("p", "people", "People", id="people"),
        Binding("g", "refresh", "Refresh", id="refresh"),
        Binding("x", "explorer", "Explorer", id="explorer"),
    ]

    def __init__(self, home: Home) -> None:
        super().__init__(name="board")
        self.home = home
        self.board: Board | None = None
        self.figures: KpiFigures | None = None  # what the KPI strip shows, with when it was computed

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="board"):
            yield KpiStrip(kpi_tiles(None), id="kpis")
            yield SafeStatic("", id="figures-note", markup=False)
            yield SafeStatic("", id="notifications", markup=False)
            yield SafeStatic("Rituals  (enter opens one)", classes="section-title")
            yield FrameTable(id="rituals", export_name="rituals")
            yield SafeStatic("Open actions", classes="section-title")
            yield FrameTable(id="actions", export_name="open-actions")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rituals", FrameTable).focus()
        # Start loading once the first frame is on screen: the worker's imports (pandas, DuckDB) would
        # otherwise compete with the first paint for the interpreter.
        self.call_after_refresh(self.load)

    def on_screen_resume(self) -> None:
        if self.board is not None:
            self.load(recompute_current=False)

    @work(thread=True, exclusive=True, group="board")
    def load(self, recompute_current: bool = True) -> None:
        # The cached figures first (on a local records file: no SQLAlchemy, DuckDB or pandas yet), painted
        # before anything heavier is imported; then the record rows with the live action counts, the tables,
        # and the figures recomputed from the stores. Back on the board from another screen
        # (``recompute_current`` False), figures cached under the current key are what a recomputation
        # would give and are kept; and a recomputation is left for the return when the board is no longer
        # the screen on top (a ritual opened meanwhile computes its own findings and would wait for it).
        from rituals.board import cached_kpis, fresh_kpis, records_board

        if self.figures is None:  # a first load; a refresh keeps the figures on screen
            self._show_painted(cached_kpis(self.home, None))
        board = records_board(self.home, keep_counts=True)
        cached = cached_kpis(self.home, board.actions)
        if not recompute_current and cached is not None and cached.current:
            self.app.call_from_thread(self.show_figures, cached, False)
            self.app.call_from_thread(self.show_board, board)
            return
        self.app.call_from_thread(self.show_figures, cached, True)
        import pandas  # noqa: F401 - loaded here, off the main thread, before the tables need it

        self.app.call_from_thread(self.show_board, board)
        if not self.is_current:
            self.app.settle_heap()  # type: ignore[attr-defined]
            return  # on_screen_resume loads again
        from storage.costs import CostStoreError

        try:
            figures = fresh_kpis(self.home, board.actions)
        except CostStoreError as exc:  # a busy store or a warehouse that cannot answer: say so, keep the app
            self.app.call_from_thread(self.app.notify, str(exc), title="Costs unavailable", severity="error",
                                      markup=False)
            return
        self.app.call_from_thread(self.show_figures, figures, False)
        from finops_tui.screens.registry import preload

        preload()  # the ritual screens' modules, while the user reads the board: a ritual then opens at once
        self.app.settle_heap()  # type: ignore[attr-defined]

    def _show_painted(self, figures: KpiFigures | None) -> None:
        """Show ``figures`` and wait (in the worker) until they are painted: the imports that follow hold the
        interpreter and would otherwise delay the paint."""
        import threading

        if figures is None:
            return
        painted = threading.Event()

        def show() -> None:
            self.show_figures(figures, True)
            self.call_after_refresh(painted.set)

        self.app.call_from_thread(show)
        painted.wait(1.0)

    def show_figures(self, figures: KpiFigures | None, refreshing: bool) -> None:
        from rituals.board import figures_note

        self.figures = figures
        if figures is not None:
            self.query_one(KpiStrip).set_kpis(kpi_tiles(figures.kpis, stale=not figures.current,
                                                        counts_known=figures.counts_known))
        self.query_one("#figures-note", SafeStatic).update(
            safe_text(figures_note(figures, refreshing=refreshing, tz=self.home.clock.tz), style="dim"))

    def show_board(self, board: Board) -> None:
        self.board = board
        notes = self.query_one("#notifications", SafeStatic)
        notes.display = bool(board.undelivered)
        notes.update(undelivered_text(board))
        import pandas as pd

        rows = []
        for r in board.rituals:
            if r.future:
                status = safe_text(f"done; next {r.due_period}", style="green")
            elif r.overdue:
                status = safe_text(f"{r.due_period} overdue {r.days_overdue} d", style="bold red")
            else:
                status = safe_text(f"{r.due_period} on track", style="green")
            if r.open_run_id:
                status.append(safe_text(f" (run #{r.open_run_id} open)", style="yellow"))
            last = f"{r.last_period} ({day(r.last_closed)[:10]})" if r.last_period else "never"
            rows.append({"ritual": r.title, "status": status, "next_due": day(r.due_date), "last_run": last,
                         "cadence": r.cadence.split(",")[0]})
        self.query_one("#rituals", FrameTable).load_frame(
            pd.DataFrame(rows, columns=list(RITUAL_LABELS), dtype=object), labels=RITUAL_LABELS,
            priorities={"status": 0, "next_due": 0}, keys=[r.kind for r in board.rituals])
        actions = [{"id": a.id, "action": a.title if len(a.title) <= TITLE_WIDTH else a.title[:TITLE_WIDTH - 1] + "…",
                    "owner": a.owner, "team": a.team or "-", "status": a.status,
                    "due": safe_text(day(a.due_date), style="bold red" if a.overdue else "")} for a in board.actions]
        self.query_one("#actions", FrameTable).load_frame(
            pd.DataFrame(actions, columns=list(ACTION_LABELS), dtype=object), labels=ACTION_LABELS,
            priorities={"owner": 0, "due": 0, "action": 0}, keys=[str(a.id) for a in board.actions])

    # -- actions ----------------------------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "rituals" and event.row_key.value:
            self.open_ritual(str(event.row_key.value))
        elif event.data_table.id == "actions":
            self.action_my_actions()

    def action_open_ritual(self) -> None:
        table = self.query_one("#rituals", FrameTable)
        if self.board and (position := table.cursor_position()) is not None:
            self.open_ritual(self.board.rituals[position].kind)

    def open_ritual(self, kind: str) -> None:
        self.app.open_ritual(kind)  # type: ignore[attr-defined]

    def action_my_actions(self) -> None:
        self.app.open_screen("finops_tui.screens.my_actions", "MyActionsScreen")  # type: ignore[attr-defined]

    def action_inbox(self) -> None:
        self.app.open_screen("finops_tui.screens.inbox", "InboxScreen")  # type: ignore[attr-defined]

    def action_raci(self) -> None:
        self.app.open_screen("finops_tui.screens.raci", "RaciScreen")  # type: ignore[attr-defined]

    def action_people(self) -> None:
        self.app.open_screen("finops_tui.screens.people", "PeopleScreen")  # type: ignore[attr-defined]

    def action_explorer(self) -> None:
        self.app.open_explorer()  # type: ignore[attr-defined]

    def action_refresh(self) -> None:
        self.load()
