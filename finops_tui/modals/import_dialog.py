"""Import billing files from the app: a path input, progress while a worker imports, then the summary.

The import runs in a thread worker (DuckDB work must never block the event loop); progress and the result
come back through ``call_from_thread``. The dialog dismisses with the summary dict (None if nothing was
imported), so the caller can refresh what it shows.
"""

from __future__ import annotations

import shlex
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, ProgressBar, Static

from finops_tui.widgets.safe_text import SafeStatic, safe_text


class ImportDialog(ModalScreen[dict[str, Any] | None]):
    DEFAULT_CSS = """
    ImportDialog {
        align: center middle;
    }
    ImportDialog > #import-box {
        width: 100;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $accent;
        background: $panel;
        padding: 1 2;
    }
    ImportDialog #import-status {
        margin-top: 1;
    }
    ImportDialog #import-error {
        color: $error;
    }
    ImportDialog #import-summary {
        height: auto;
        max-height: 20;
        overflow-y: auto;
    }
    ImportDialog #import-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    ImportDialog Button {
        margin-left: 1;
    }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="import-close")]

    def __init__(self, home: Any, path: str = "") -> None:
        super().__init__()
        self.home = home
        self.initial_path = path
        self.running = False
        self.summary: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="import-box"):
            yield SafeStatic("Import FOCUS 1.0-1.3 or AWS CUR 2.0 files (CSV, CSV.gz, Parquet): files, folders or "
                         "globs, separated by spaces.", markup=False)
            yield Input(self.initial_path, placeholder="~/exports/focus/*.parquet", id="import-path")
            yield Input(placeholder="billing account ID, for files without a BillingAccountId column",
                        id="import-billing-account")
            yield ProgressBar(total=100, show_eta=False, id="import-progress")
            yield SafeStatic("", id="import-status", markup=False)
            yield SafeStatic("", id="import-error", markup=False)
            yield SafeStatic("", id="import-summary", markup=False)
            with Horizontal(id="import-buttons"):
                yield Button("Close", id="import-close-button")
                yield Button("Import", id="import-start", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "import-start":
            self.start()
        else:
            self.action_close()

    def action_close(self) -> None:
        if not self.running:
            self.dismiss(self.summary)

    def start(self) -> None:
        if self.running:
            return
        raw = self.query_one("#import-path", Input).value.strip()
        try:
            paths = shlex.split(raw)
        except ValueError as exc:
            self._show_error(f"cannot read the paths: {exc}")
            return
        if not paths:
            self._show_error("type a file, folder or glob to import")
            return
        self.running = True
        self.query_one("#import-start", Button).disabled = True
        self.query_one("#import-close-button", Button).disabled = True
        self._show_error("")
        self.query_one("#import-summary", Static).update("")
        self.query_one("#import-progress", ProgressBar).update(progress=0)
        self.run_import(paths, self.query_one("#import-billing-account", Input).value.strip() or None)

    @work(thread=True, exclusive=True, group="import")
    def run_import(self, paths: list[str], billing_account: str | None = None) -> None:
        from finops_tui.commands.import_ import one_line
        from storage.costs import CostStoreError
        from storage.loader import LoadError
        from storage.sources.files import import_files

        def progress(message: str, fraction: float) -> None:
            self.app.call_from_thread(self._progress, message, fraction)

        config = self.home.config
        try:
            result = import_files(self.home.costs, paths, fallback_currency=config.currency, progress=progress,
                                  imported_at=self.home.clock.now(), billing_account=billing_account)
        except (LoadError, CostStoreError) as exc:
            self.app.call_from_thread(self._finished, None, one_line(exc))
            return
        self.app.call_from_thread(self._finished, result.as_dict(), None)

    def _progress(self, message: str, fraction: float) -> None:
        self.query_one("#import-progress", ProgressBar).update(progress=round(fraction * 100))
        self.query_one("#import-status", Static).update(safe_text(message))

    def _finished(self, summary: dict[str, Any] | None, error: str | None) -> None:
        from finops_tui.commands.import_ import summary_lines

        self.running = False
        self.query_one("#import-start", Button).disabled = False
        self.query_one("#import-close-button", Button).disabled = False
        if error is not None:
            self.query_one("#import-status", Static).update("Nothing was imported.")
            self._show_error(error)
            self.query_one("#import-path", Input).focus()
            return
        assert summary is not None
        self.summary = summary
        self.query_one("#import-progress", ProgressBar).update(progress=100)
        self.query_one("#import-status", Static).update("Imported.")
        self.query_one("#import-summary", Static).update(safe_text("\n".join(summary_lines(summary))))
        self.query_one("#import-close-button", Button).focus()

    def _show_error(self, message: str) -> None:
        self.query_one("#import-error", Static).update(safe_text(message))
