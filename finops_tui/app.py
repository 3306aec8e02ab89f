"""FinOpsApp: the screens, bindings and command palette. Services are injected, never built here."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from storage.home import Home

# The config's [ui] theme names -> Textual themes; high contrast is ours: pure black and white, saturated accents.
HIGH_CONTRAST = Theme(name="finops-high-contrast", primary="#ffff00", secondary="#00ffff", accent="#ffff00",
                      foreground="#ffffff", background="#000000", surface="#000000", panel="#202020",
                      boost="#303030", warning="#ffaf00", error="#ff5f5f", success="#5fff5f", dark=True,
                      text_alpha=1.0)
THEMES = {"dark": "textual-dark", "light": "textual-light", "high-contrast": HIGH_CONTRAST.name}


def binding_ids() -> set[str]:
    """The id of every binding of the app, its screens, modals and widgets (the ids [keys] may rebind)."""
    return {b.id for b in all_bindings() if b.id}


def all_bindings() -> list[Binding]:
    """Every binding with an id of the app, its screens, modals and widgets, once each, by id."""
    import importlib
    import pkgutil

    from textual.dom import DOMNode

    import finops_tui

    for package in ("screens", "modals", "widgets"):
        path = [str(Path(finops_tui.__file__).parent / package)]
        for info in pkgutil.iter_modules(path):
            importlib.import_module(f"finops_tui.{package}.{info.name}")
    found: dict[str, Binding] = {}
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("finops_tui"):
            for klass in cls.__mro__:
                for binding in vars(klass).get("BINDINGS", []):
                    if isinstance(binding, Binding) and binding.id:
                        found.setdefault(binding.id, binding)
    return sorted(found.values(), key=lambda b: b.id or "")


class FinOpsApp(App[None]):
    CSS_PATH = Path(__file__).with_name("finops.tcss")
    TITLE = "finops-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", show=False),  # the footers must fit 80 columns; ? lists it
        Binding("question_mark", "help", "Keys", id="help", key_display="?"),
    ]

    def notify(self, message: str, *, title: str = "", severity: str = "information",  # type: ignore[override]
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast passes the sanitiser (messages carry names, paths and error text from data)."""
        from exports.sanitize import plain

        super().notify(plain(message), title=plain(title), severity=severity, timeout=timeout,  # type: ignore[arg-type]
                       markup=markup)

    def __init__(self, home: Home) -> None:
        super().__init__()
        self.home = home
        self.register_theme(HIGH_CONTRAST)
        config = home.config
        self.theme = THEMES[config.theme]
        if config.keys:
            self.set_keymap(config.keys)

    def on_mount(self) -> None:
        config = self.home.config
        # Only a config with [keys] pays for importing every screen to learn the binding ids (first paint).
        unknown = sorted(set(config.keys) - binding_ids()) if config.keys else []
        if unknown:  # a typo must not pass silently: the key stays as it was
            self.notify(f"{config.source}: [keys] names no binding: {', '.join(unknown)} (press ? for the keys)",
                        title="Config", severity="warning", markup=False, timeout=10)
        # The folder name, not the whole path: enough to tell homes apart, and stable in snapshots.
        self.sub_title = ("demo: " if self.home.is_demo else "") + self.home.path.name
        if not self.home.has_cost_data():
            from finops_tui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(self.home))
        else:
            from finops_tui.screens.board import BoardScreen

            self.push_screen(BoardScreen(self.home))

    # -- the collector ----------------------------------------------------------------------------------
    _heap_settled = False

    def settle_heap(self) -> None:
        """Once a run, when the board's figures have been computed (pandas, DuckDB and SQLAlchemy imported,
        the records read): move what is alive out of the cyclic collector's reach (``gc.freeze``), so its
        collections stop walking the libraries' objects each time a screen builds its widgets or a ritual
        computes its findings. Reference counting still frees them. Measured opening the commitment review
        on a 5M-row home (bench/screens.py): the collector's share of the open fell from 70-110 ms to about
        35 ms. Any thread may call it; the app undoes it when it ends (``on_unmount``)."""
        import gc

        if not self._heap_settled:
            self._heap_settled = True
            gc.freeze()

    def on_unmount(self) -> None:
        import gc

        if self._heap_settled:  # a process that runs the app again (the tests) starts with a plain collector
            gc.unfreeze()

    def action_help(self) -> None:
        """The keys of the screen and of the focused widget, beside the screen (again: hidden)."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_about(self) -> None:
        from finops_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    # -- the command palette ----------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("About finops-tui", "The rituals, the conventions and the global keys", self.action_about)
        from rituals.ritual import RITUALS

        for spec in RITUALS:
            yield SystemCommand(f"Ritual: {spec.title}", f"{spec.cadence}; {spec.output}",
                                lambda kind=spec.kind: self.open_ritual(kind))
        yield SystemCommand("Ritual board", "The five rituals, KPIs and open actions", self.action_board)
        yield SystemCommand("Import billing files", "FOCUS 1.0-1.3 or AWS CUR 2.0: CSV, CSV.gz, Parquet",
                            self.action_import_files)
        yield SystemCommand("Sync AWS", "Fetch cost data from the AWS APIs (Cost Explorer bills $0.01 a request)",
                            self.action_sync_aws)
        yield SystemCommand("My actions", "Update the actions you own", lambda: self.open_screen(
            "finops_tui.screens.my_actions", "MyActionsScreen"))
        yield SystemCommand("Recommendations inbox", "Right-sizing and clean-up to accept, dismiss or snooze",
                            lambda: self.open_screen("finops_tui.screens.inbox", "InboxScreen"))
        yield SystemCommand("RACI", "Who is responsible and accountable for what", lambda: self.open_screen(
            "finops_tui.screens.raci", "RaciScreen"))
        yield SystemCommand("People and teams", "Who owns what", lambda: self.open_screen(
            "finops_tui.screens.people", "PeopleScreen"))
        yield SystemCommand("Showback", "Each team's direct spend plus its share of shared costs, last month",
                            lambda: self.open_screen("finops_tui.screens.showback", "ShowbackScreen"))
        yield SystemCommand("Explorer", "Spend grouped by team, service, account, region or tag; filter, drill down",
                            self.open_explorer)
        yield SystemCommand("Unit economics", "Cost per customer, per 1k API requests, per inference; 6-month trend",
                            lambda: self.open_screen("finops_tui.screens.unit_economics", "UnitEconomicsScreen"))

    def open_ritual(self, kind: str, period: str | None = None) -> None:
        """The ritual's screen on ``period``, or on the period due now; never a future period (every
        period up to today closed: a notice says when the next one is due)."""
        from finops_tui.screens.registry import ritual_screen
        from rituals.calendar import due_now
        from rituals.ritual import ritual

        if period is None:
            definition = ritual(kind)
            due = due_now(definition, self.home)
            if due.future:
                self.notify(f"Every {definition.title.lower()} up to today is closed; the next one reviews "
                            f"{due.period}, due {due.due_date.isoformat()}.", title="Nothing due", markup=False)
                return
            period = due.period
        self.push_screen(ritual_screen(kind, self.home, period))

    def action_import_files(self, path: str = "") -> None:
        from finops_tui.modals.import_dialog import ImportDialog

        def done(summary: dict | None) -> None:
            if summary:
                self.action_board()

        self.push_screen(ImportDialog(self.home, path), done)

    def action_sync_aws(self) -> None:
        self.notify("Syncing AWS...", title="Sync AWS", markup=False)
        self._sync_aws()

    @work(thread=True, exclusive=True, group="sync-aws")
    def _sync_aws(self) -> None:
        from storage.sources.aws import SyncOptions, sync_aws

        def progress(message: str) -> None:
            self.call_from_thread(self.notify, message, title="Sync AWS", markup=False, timeout=3)

        try:
            result = sync_aws(self.home, SyncOptions(), progress=progress)
        except (ValueError, RuntimeError) as exc:
            self.call_from_thread(self.notify, str(exc), title="Sync AWS failed", severity="error", markup=False)
            return
        failed = [f"{d.name}: {d.reason}" for d in result.datasets if d.status != "ok"]
        text = (f"{result.ledger.requests} requests (${result.ledger.cost:.2f}); "
                + ("; ".join(failed) if failed else "every data set synced"))
        self.call_from_thread(self.notify, text, title="Sync AWS", severity="warning" if failed else "information",
                              markup=False, timeout=10)
        self.call_from_thread(self.action_board)

    def action_board(self) -> None:
        from finops_tui.screens.board import BoardScreen

        if not self.home.has_cost_data():
            self.notify("No cost data yet: import files, sync AWS or open the demo.", markup=False)
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if not isinstance(self.screen, BoardScreen):
            self.push_screen(BoardScreen(self.home))

    def open_explorer(self, view: object = None) -> None:
        """The spend explorer, on ``view`` (a storage.config.ExplorerView; default: last 30 days by team)."""
        from finops_tui.screens.explorer import ExplorerScreen

        if not self.home.has_cost_data():
            self.notify("No cost data yet: import files, sync AWS or open the demo.", markup=False)
            return
        self.push_screen(ExplorerScreen(self.home, view))  # type: ignore[arg-type]

    def open_screen(self, module: str, cls: str) -> None:
        import importlib

        self.push_screen(getattr(importlib.import_module(module), cls)(self.home))
