"""The app's one table: a DataTable filled from a pandas frame or a list of records, driven like k9s.

Every cell is Text (never markup); numbers and money are right-aligned, money carries its currency. Keys:
left/right move the column cursor (the header of the current column is underlined; the view scrolls a whole
column at a time), ``o`` sorts by it (again: reverse; a header click does the same), ``/`` filters the rows
as you type with the matches highlighted, ``y`` copies the cell and ``Y`` the row (OSC 52 through the app's
clipboard), ``e`` exports what is shown as CSV or markdown to HOME/exports. Columns carry priorities: when
the table is too narrow the highest-numbered go first (priority 0 never goes: identifying and money
columns), and the columns are rebuilt on resize because a DataTable cannot hide one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.actions import SkipAction
from textual.binding import Binding
from textual.widgets import DataTable, Input

from exports.sanitize import plain
from finops_tui.widgets.safe_text import cell

# A generic frame carries no declared kinds, so the table reads a money column from its name (the minutes
# never do: they format by the kinds each ritual declares, ``Ritual.fields``).
MONEY_WORDS = re.compile(r"(cost|spend|amount|budget|forecast|saving|price|billed|charge|total|variance|"
                         r"delta|waste|commitment_value|invoice|money)")
NOT_MONEY_SUFFIXES = ("_pct", "_count", "count", "_rows", "rows", "_hours", "_days", "_ratio", "_id")


def is_money(key: str) -> bool:
    """A money column of a frame: a money word in its name, and no count/percent/time suffix."""
    return bool(MONEY_WORDS.search(key.lower())) and not key.rsplit(".", 1)[-1].lower().endswith(NOT_MONEY_SUFFIXES)


Formatter = Callable[[Any], str]
MAX_AUTO_WIDTH = 60  # a free-text column (priority > 0) wider than this is cut; copies and exports hold it all
MATCH_STYLE = "reverse"


def _missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _default_text(value: Any) -> str:
    if _missing(value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not _missing(value)


def cell_text(value: Any, formatter: Formatter | None = None) -> Text:
    """Every cell of the table: through widgets.safe_text.cell (the sanitiser, on one line), a Text the
    screen styled included."""
    if isinstance(value, Text):
        return cell(value)
    raw = formatter(value) if formatter else _default_text(value)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return cell(raw, justify="right" if numeric else "left")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "table"


# A figure as text ("5,419 USD", "-12.5%", "4.38 USD/h", "+3.1 pts"): sorted as its number, right-aligned.
_FIGURE = re.compile(r"^\s*([+\-−]?)\s*([\d,]*\.?\d+)\s*(%|pts|[A-Z]{3}(/h)?|h|d)?\s*$")
_NO_FIGURE = ("", "-", "no data", "n/a")


def figure(value: Any) -> float | None:
    """The number a figure's text shows, or None."""
    text = value.plain if isinstance(value, Text) else value
    if not isinstance(text, str) or not (m := _FIGURE.match(text)):
        return None
    if not m.group(3) and m.group(2).isdigit() and len(m.group(2)) > 6:
        return None  # a bare long digit string is an identifier (an AWS account id), not a figure
    number = float(m.group(2).replace(",", ""))
    return -number if m.group(1) in ("-", "−") else number


def _figure_column(values: Sequence[Any]) -> bool:
    texts = [v.plain if isinstance(v, Text) else v for v in values]
    shown = [t for t in texts if not (isinstance(t, str) and t.strip().lower() in _NO_FIGURE)]
    return bool(shown) and all(isinstance(t, str) and figure(t) is not None for t in shown)


def _sort_key(value: Any) -> tuple[int, Any]:
    if (number := figure(value)) is not None:
        return (0, number)
    if isinstance(value, Text):
        return (1, value.plain.lower())
    if _is_number(value):
        return (0, float(value))
    if hasattr(value, "isoformat"):
        return (1, value.isoformat())
    return (1, str(value).lower())


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    priority: int  # 0: always shown; the highest number is hidden first
    numeric: bool
    money: bool


class TableFilter(Input):
    """The filter box a table mounts below itself on ``/``: typing filters, enter keeps, escape clears."""

    DEFAULT_CSS = """
    TableFilter { dock: bottom; height: 1; border: none; padding: 0 1; width: 1fr; }
    """
    BINDINGS = [Binding("escape", "clear_filter", "Clear filter", id="table-filter-clear")]

    def __init__(self, table: FrameTable, value: str = "") -> None:
        super().__init__(value, placeholder="filter rows (enter keeps, escape clears)", compact=True)
        self.table = table

    def action_clear_filter(self) -> None:
        self.table.close_filter(clear=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.table.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.close_filter(clear=False)


class FrameTable(DataTable):
    """``FrameTable(export_name="showback")``; ``load_frame(df, formats={"spend": money}, currency="USD",
    priorities={"resource_id": 0})``. ``position_of(row_key)`` gives a row's position in the frame."""

    HELP = """\
**Table keys.** ← → column, `o` sort by it (again: reverse; or click a header), `/` filter rows,
`y` copy the cell, `Y` copy the row, `e` export CSV or markdown. Columns that do not fit hide the
least important first; copies and exports hold every column.
"""
    BINDINGS = [
        # The footer shows `/` only (it must fit 80 columns beside a ritual's keys); `?` lists them all.
        Binding("slash", "filter", "Filter", id="table-filter", key_display="/"),
        Binding("o", "sort", "Sort", id="table-sort", show=False),
        Binding("y", "copy_cell", "Copy", id="table-copy-cell", show=False),
        Binding("Y", "copy_row", "Copy row", id="table-copy-row", show=False),
        Binding("e", "export", "Export", id="table-export", show=False),
        Binding("j", "vim_down", "Down", id="table-down", show=False),
        Binding("k", "vim_up", "Up", id="table-up", show=False),
    ]

    def __init__(self, *, export_name: str = "table", export_dir: Path | None = None, vim_keys: bool = True,
                 **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.export_name = export_name
        self.export_dir = export_dir
        self.vim_keys = vim_keys  # j/k only where the screen leaves them free
        self.frame: Any = None  # what was loaded: a pandas frame or a list of records (None: nothing yet)
        self.loaded_rows: list[tuple[Any, ...]] = []  # its rows, every column (DataTable has .rows)
        self.spec: list[Column] = []
        self.cells: list[list[Text]] = []  # the displayed text of every frame row, every column
        self.keys: list[str] = []  # one row key per frame row
        self.order: list[int] = []  # frame positions in display order (sorted, then filtered)
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.filter_text = ""
        self.column = 0  # the column cursor (index into the visible columns) when the cursor is a row
        self.shown_columns: list[Column] = []

    # -- filling --------------------------------------------------------------------------------------------
    def load_frame(self, frame: Any, formats: Mapping[str, Formatter] | None = None,
                   labels: Mapping[str, str] | None = None, *, currency: str | None = None,
                   priorities: Mapping[str, int] | None = None, keys: Sequence[str] | None = None) -> None:
        """Show a pandas ``frame`` (``load_records`` says how)."""
        self._load([str(c) for c in frame.columns], list(frame.itertuples(index=False, name=None)), frame,
                   formats, labels, currency=currency, priorities=priorities, keys=keys)

    def load_records(self, records: Sequence[Mapping[str, Any]], columns: Sequence[str],
                     formats: Mapping[str, Formatter] | None = None, labels: Mapping[str, str] | None = None, *,
                     currency: str | None = None, priorities: Mapping[str, int] | None = None,
                     keys: Sequence[str] | None = None) -> None:
        """Show ``columns`` of ``records`` (rows as mappings; a missing field is empty). A numeric column
        whose name reads as money (exports.markdown.is_money) is shown with ``currency``; ``priorities``
        override the defaults (first and money columns 0, others 1)."""
        rows = [tuple(r.get(c) for c in columns) for r in records]
        self._load(list(columns), rows, list(records), formats, labels, currency=currency, priorities=priorities,
                   keys=keys)

    def _load(self, names: list[str], rows: list[tuple[Any, ...]], source: Any,
              formats: Mapping[str, Formatter] | None, labels: Mapping[str, str] | None, *,
              currency: str | None, priorities: Mapping[str, int] | None, keys: Sequence[str] | None) -> None:
        formats = dict(formats or {})
        labels = labels or {}
        priorities = priorities or {}
        spec = []
        for i, name in enumerate(names):
            values = [r[i] for r in rows]
            numeric = any(_is_number(v) for v in values) and all(_is_number(v) or _missing(v) for v in values)
            money = numeric and is_money(name)
            numeric = numeric or _figure_column(values)
            if money and currency and name not in formats:
                formats[name] = lambda v, c=currency: "-" if _missing(v) else f"{v:,.2f} {c}"
            default = 0 if i == 0 or money else 1
            spec.append(Column(name, labels.get(name, name), priorities.get(name, default), numeric, money))
        keep = self._cursor_key()
        self.frame = source
        self.loaded_rows = rows
        self.spec = spec
        self.cells = [[cell_text(v, formats.get(c)) for c, v in zip(names, row, strict=True)] for row in rows]
        for i, column in enumerate(spec):
            if column.numeric:  # figures given as text sit right like numbers
                for row_cells in self.cells:
                    row_cells[i].justify = "right"
        self.keys = [str(k) for k in keys] if keys is not None else [str(i) for i in range(len(rows))]
        if self.sort_column not in names:
            self.sort_column, self.sort_reverse = None, False
        self._rebuild(keep)

    def position_of(self, row_key: Any) -> int:
        """The frame position of a row (its key, or a RowKey)."""
        value = getattr(row_key, "value", row_key)
        return self.keys.index(str(value))

    def cursor_position(self) -> int | None:
        """The frame position of the row under the cursor (None when no row is shown)."""
        if not self.order or self.cursor_row is None or self.cursor_row >= len(self.order):
            return None
        return self.order[self.cursor_row]

    # -- laying out: priorities, sort, filter ------------------------------------------------------------------
    def _natural_width(self, index: int) -> int:
        column = self.spec[index]
        widest = max((self.cells[r][index].cell_len for r in range(len(self.cells))), default=0)
        natural = max(len(column.label) + 2, widest)
        # An identifying column (priority 0: an ARN, a resource id) is never cut: its end tells rows apart.
        return (natural if column.priority == 0 else min(natural, MAX_AUTO_WIDTH)) + 2 * self.cell_padding

    def _capped(self, index: int) -> bool:
        return self.spec[index].priority > 0 and self._natural_width(index) >= MAX_AUTO_WIDTH + 2 * self.cell_padding

    def _fit(self) -> list[Column]:
        """The columns that fit the width, hiding the highest priority number first (rightmost first)."""
        width = self.scrollable_content_region.width or self.size.width
        shown = list(range(len(self.spec)))
        if width <= 0:
            return [self.spec[i] for i in shown]
        widths = {i: self._natural_width(i) for i in shown}
        while sum(widths[i] for i in shown) > width:
            droppable = [i for i in shown if self.spec[i].priority > 0]
            if not droppable:
                break
            drop = max(droppable, key=lambda i: (self.spec[i].priority, i))
            shown.remove(drop)
        return [self.spec[i] for i in shown]

    def _ordered(self) -> list[int]:
        positions = list(range(len(self.cells)))
        if self.sort_column is not None and self.frame is not None:
            index = [c.key for c in self.spec].index(self.sort_column)
            values = [row[index] for row in self.loaded_rows]
            def absent_value(v: Any) -> bool:
                text = v.plain if isinstance(v, Text) else v
                return _missing(v) or (isinstance(text, str) and text.strip().lower() in _NO_FIGURE)

            present = [p for p in positions if not absent_value(values[p])]
            absent = [p for p in positions if absent_value(values[p])]
            present.sort(key=lambda p: _sort_key(values[p]), reverse=self.sort_reverse)
            positions = present + absent  # no value sorts last either way
        needle = self.filter_text.lower()
        if needle:
            positions = [p for p in positions if any(needle in c.plain.lower() for c in self.cells[p])]
        return positions

    def _label(self, column: Column, current: bool) -> Text:
        arrow = ("▼" if self.sort_reverse else "▲") if column.key == self.sort_column else " "
        text = cell(column.label, justify="right" if column.numeric else "left")  # a label may be data
        text.append(f" {arrow}")  # the arrow's place is kept (after the sanitised label) so widths never jump
        if current:
            text.stylize("underline bold")
        return text

    def _shown_cell(self, cell: Text) -> Text:
        if not self.filter_text:
            return cell
        out = cell.copy()
        lower, needle, start = out.plain.lower(), self.filter_text.lower(), 0
        while (found := lower.find(needle, start)) >= 0:
            out.stylize(MATCH_STYLE, found, found + len(needle))
            start = found + len(needle)
        return out

    def _cursor_key(self) -> str | None:
        position = self.cursor_position()
        return self.keys[position] if position is not None and position < len(self.keys) else None

    def _rebuild(self, keep: str | None = None) -> None:
        keep_key = keep if keep is not None else self._cursor_key()
        current = self.current_column
        keep_column = current.key if current is not None else None
        scroll_x = self.scroll_x
        self.shown_columns = self._fit()
        self.order = self._ordered()
        keys = [c.key for c in self.shown_columns]
        self.column = keys.index(keep_column) if keep_column in keys else min(self.column, max(len(keys) - 1, 0))
        self.clear(columns=True)
        index = {c.key: i for i, c in enumerate(self.spec)}
        for i, column in enumerate(self.shown_columns):
            self.add_column(self._label(column, i == self.column and self.cursor_type == "row"), key=column.key,
                            width=MAX_AUTO_WIDTH if self._capped(index[column.key]) else None)
        for p in self.order:
            self.add_row(*(self._shown_cell(self.cells[p][index[c.key]]) for c in self.shown_columns), key=self.keys[p])
        shown_keys = [self.keys[p] for p in self.order]
        row = shown_keys.index(keep_key) if keep_key in shown_keys else 0
        if self.cursor_type in ("cell", "column"):
            self.move_cursor(row=row, column=self.column, animate=False)
        elif keep_key in shown_keys:
            self.move_cursor(row=row, animate=False)
        self.scroll_x = min(scroll_x, self.max_scroll_x)

    def on_resize(self, _event: events.Resize) -> None:
        if self.spec and [c.key for c in self._fit()] != [c.key for c in self.shown_columns]:
            self._rebuild()

    # -- the column cursor and horizontal scrolling by column ---------------------------------------------------
    def _column_left_edges(self) -> list[int]:
        edges, x = [], 0
        for column in self.ordered_columns:
            edges.append(x)
            x += column.get_render_width(self)
        return edges

    def _move_column(self, delta: int) -> None:
        if not self.shown_columns:
            return
        self.column = max(0, min(self.column + delta, len(self.shown_columns) - 1))
        for i, column in enumerate(self.shown_columns):
            self.columns[column.key].label = self._label(column, i == self.column)  # type: ignore[index]
        self._clear_caches()
        edges = self._column_left_edges()
        left = edges[self.column]
        right = left + self.ordered_columns[self.column].get_render_width(self)
        view = self.scrollable_content_region.width
        if left < self.scroll_x:
            self.scroll_to(x=left, animate=False)
        elif right > self.scroll_x + view:
            self.scroll_to(x=min(left, right - view) if right - left > view else right - view, animate=False)
            # land on a column edge so a partly shown column is never cut on the left
            self.scroll_to(x=next((e for e in edges if e >= self.scroll_x), left), animate=False)
        self.refresh()

    def action_cursor_right(self) -> None:
        if self.cursor_type == "row":
            self._move_column(1)
        else:
            super().action_cursor_right()

    def action_cursor_left(self) -> None:
        if self.cursor_type == "row":
            self._move_column(-1)
        else:
            super().action_cursor_left()

    @property
    def current_column(self) -> Column | None:
        index = self.cursor_column if self.cursor_type in ("cell", "column") else self.column
        return self.shown_columns[index] if self.shown_columns and 0 <= index < len(self.shown_columns) else None

    def action_vim_down(self) -> None:
        if not self.vim_keys:
            raise SkipAction()
        self.action_cursor_down()

    def action_vim_up(self) -> None:
        if not self.vim_keys:
            raise SkipAction()
        self.action_cursor_up()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("vim_down", "vim_up"):
            return self.vim_keys
        return True

    # -- sorting ------------------------------------------------------------------------------------------------
    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        """Sort by column ``key``; by default the same column again reverses the order."""
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_column else False
        self.sort_column, self.sort_reverse = key, reverse
        self._rebuild()

    def action_sort(self) -> None:
        if (column := self.current_column) is not None:
            self.sort_by(column.key)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.data_table is self:
            keys = [c.key for c in self.shown_columns]
            if self.cursor_type == "row" and event.column_key.value in keys:
                self.column = keys.index(str(event.column_key.value))
            self.sort_by(str(event.column_key.value))

    # -- filtering ----------------------------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self._rebuild()

    def action_filter(self) -> None:
        boxes = [b for b in self.screen.query(TableFilter) if b.table is self]
        if boxes:
            boxes[0].focus()
            return
        box = TableFilter(self, self.filter_text)
        (self.parent or self.screen).mount(box)
        box.focus()

    def close_filter(self, clear: bool) -> None:
        if clear:
            self.set_filter("")
        for box in [b for b in self.screen.query(TableFilter) if b.table is self]:
            if clear or not box.value:
                box.remove()
        self.focus()

    # -- copying ------------------------------------------------------------------------------------------------
    def _copy(self, text: str, what: str) -> None:
        text = plain(text)
        self.app.copy_to_clipboard(text)
        shown = text if len(text) <= 60 else text[:59] + "…"
        self.notify(f"Copied {what}: {shown}", markup=False, timeout=3)

    def action_copy_cell(self) -> None:
        position, column = self.cursor_position(), self.current_column
        if position is None or column is None:
            self.notify("Nothing to copy.", severity="warning")
            return
        index = [c.key for c in self.spec].index(column.key)
        self._copy(self.cells[position][index].plain, column.label)

    def action_copy_row(self) -> None:
        position = self.cursor_position()
        if position is None:
            self.notify("Nothing to copy.", severity="warning")
            return
        self._copy("\t".join(c.plain for c in self.cells[position]), "the row")

    # -- exporting ----------------------------------------------------------------------------------------------
    def table_data(self) -> Any:
        """What is shown (filtered rows in display order, every column) for exports.table_export."""
        from exports.table_export import TableData

        rows = self.loaded_rows
        return TableData(self.export_name, [c.key for c in self.spec], [c.label for c in self.spec],
                         [c.numeric for c in self.spec], [rows[p] for p in self.order],
                         [[c.plain for c in self.cells[p]] for p in self.order])

    def _target_dir(self) -> Path:
        if self.export_dir is not None:
            return self.export_dir
        home = getattr(self.app, "home", None)
        base = Path(home.path) if home is not None else Path.cwd()
        return base / "exports"

    def export_path(self, fmt: str = "csv") -> Path:
        clock = getattr(getattr(self.app, "home", None), "clock", None)
        stamp = clock.now() if clock is not None else None
        suffix = stamp.strftime("-%Y%m%d-%H%M%S") if stamp is not None else ""
        return self._target_dir() / f"{_slug(self.export_name)}{suffix}.{fmt}"

    def action_export(self) -> None:
        if self.frame is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        self._export_flow()

    @work(group="table-export-dialog", exclusive=True)
    async def _export_flow(self) -> None:
        from finops_tui.modals.pick import PickOne

        fmt = await self.app.push_screen_wait(PickOne(
            f"Export {len(self.order)} rows of {self.export_name}",
            [("CSV (raw values)", "csv"), ("Markdown (as shown)", "md")], "csv"))
        if fmt is not None:
            self.export(fmt)

    @work(thread=True, exclusive=True, group="table-export")
    def export(self, fmt: str) -> None:
        from exports.table_export import write_table

        path = self.export_path(fmt)
        data = self.app.call_from_thread(self.table_data)
        try:
            write_table(data, path, fmt)
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Could not write {path}: {exc}", severity="error",
                                      markup=False)
            return
        self.app.call_from_thread(self.notify, f"Exported {len(data.raw)} rows to {path}", markup=False)
