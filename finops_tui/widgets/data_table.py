"""A DataTable filled from a pandas frame: every cell is Text (never markup), numbers right-aligned,
and `e` exports the frame behind the table to CSV in HOME/exports/."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widgets import DataTable

Formatter = Callable[[Any], str]


def _default_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if type(value).__name__ in ("NAType", "NaTType"):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def cell_text(value: Any, formatter: Formatter | None = None) -> Text:
    raw = formatter(value) if formatter else _default_text(value)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return Text(raw, justify="right" if numeric else "left")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "table"


class FrameTable(DataTable):
    """``FrameTable(export_name="showback")``; ``load_frame(df, formats={"spend": money})``."""

    BINDINGS = [Binding("e", "export_csv", "Export CSV", id="export-csv")]

    def __init__(self, *, export_name: str = "table", export_dir: Path | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.export_name = export_name
        self.export_dir = export_dir
        self.frame: Any = None  # the pandas frame shown

    def load_frame(self, frame: Any, formats: Mapping[str, Formatter] | None = None,
                   labels: Mapping[str, str] | None = None) -> None:
        formats = formats or {}
        labels = labels or {}
        self.clear(columns=True)
        self.frame = frame
        for column in frame.columns:
            self.add_column(Text(labels.get(str(column), str(column))), key=str(column))
        columns = [str(c) for c in frame.columns]
        for row in frame.itertuples(index=False, name=None):
            self.add_row(*(cell_text(v, formats.get(c)) for c, v in zip(columns, row, strict=True)))

    def _target_dir(self) -> Path:
        if self.export_dir is not None:
            return self.export_dir
        home = getattr(self.app, "home", None)
        base = Path(home.path) if home is not None else Path.cwd()
        return base / "exports"

    def export_path(self) -> Path:
        clock = getattr(getattr(self.app, "home", None), "clock", None)
        stamp = clock.now() if clock is not None else None
        suffix = stamp.strftime("-%Y%m%d-%H%M%S") if stamp is not None else ""
        return self._target_dir() / f"{_slug(self.export_name)}{suffix}.csv"

    def action_export_csv(self) -> None:
        if self.frame is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        self._export(self.frame, self.export_path())

    @work(thread=True, exclusive=True, group="csv-export")
    def _export(self, frame: Any, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(path, index=False)
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Could not write {path}: {exc}", severity="error",
                                      markup=False)
            return
        self.app.call_from_thread(self.notify, f"Exported {len(frame)} rows to {path}", markup=False)
