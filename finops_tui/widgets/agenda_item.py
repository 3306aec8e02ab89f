"""A document of escaped markdown (what the minutes carry) shown with its tables as the app's tables: prose
through Textual's Markdown, each table as a FrameTable (sort, filter, copy, export, no squeezed "2026-1…"
columns). ``update(markdown)`` replaces it; ``source`` is the markdown shown.

Its widgets are built only while it is shown (a ritual step not reached yet builds nothing; it builds when
its step is reached) and a few blocks at a time, one batch per refresh: a long agenda paints its head at
once and the app answers keys while the rest is built."""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical
from textual.widgets import Markdown

from exports import markdown as md
from finops_tui.widgets.data_table import FrameTable, is_money


def blocks(text: str) -> list[tuple[str, Any]]:
    """``("text", markdown)`` and ``("table", lines)`` in document order."""
    out: list[tuple[str, Any]] = []
    for line in text.split("\n"):
        kind = "table" if md.is_table_line(line) else "text"
        if out and out[-1][0] == kind:
            out[-1][1].append(line)
        else:
            out.append((kind, [line]))
    return [(kind, lines if kind == "table" else "\n".join(lines)) for kind, lines in out
            if kind == "table" or "\n".join(lines).strip()]


KEEP_HEADERS = ("status", "owner", "team", "share", "impact", "savings")


def _priority(index: int, header: str) -> int:
    """The first column names the row (kept); money and who/what-state columns next; the rest go first
    (the rightmost first) when the table is narrow."""
    if index == 0:
        return 0
    low = header.lower()
    return 1 if is_money(low.replace(" ", "_")) or any(w in low for w in KEEP_HEADERS) else 2


class AgendaItem(Vertical):
    DEFAULT_CSS = """
    AgendaItem { height: auto; min-height: 1; }  /* a line even before it is built: shown, it gets its Show */
    AgendaItem > FrameTable { height: auto; max-height: 14; margin: 0 0 1 0; }
    AgendaItem > Markdown { margin: 0; }
    """
    BATCH = 4  # blocks (a paragraph run or a table) mounted per refresh

    def __init__(self, text: str = "", *, export_name: str = "agenda", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = text
        self.export_name = export_name
        self.built: str | None = None  # the source the widgets show (None: nothing built yet)
        self._shown = False
        self._generation = 0  # a newer build abandons the batches of an older one

    def on_show(self) -> None:
        self._shown = True
        self._build_if_needed()

    def on_hide(self) -> None:
        self._shown = False

    def update(self, text: str) -> None:
        self.source = text
        self._build_if_needed()

    def _build_if_needed(self) -> None:
        if self._shown and self.built != self.source:
            self.built = self.source
            self._generation += 1
            self.remove_children()
            self._mount_batch(self._generation, blocks(self.source), 0, 0)

    def _mount_batch(self, generation: int, parts: list[tuple[str, Any]], start: int, tables: int) -> None:
        import pandas as pd

        if generation != self._generation:
            return
        widgets: list[Any] = []
        fills: list[tuple[FrameTable, Any, dict[str, str]]] = []
        for kind, body in parts[start:start + self.BATCH]:
            if kind == "text":
                widgets.append(Markdown(body))
                continue
            headers, rows, _align = md.parse_table(body)
            keys = [f"c{i}" for i in range(len(headers))]
            frame = pd.DataFrame([r + [""] * (len(headers) - len(r)) for r in rows], columns=keys, dtype=object)
            table = FrameTable(export_name=f"{self.export_name}-{tables + len(fills) + 1}")
            widgets.append(table)
            fills.append((table, frame, dict(zip(keys, headers, strict=True))))

        def fill() -> None:
            if generation != self._generation:
                return
            for table, frame, labels in fills:
                table.load_frame(frame, labels=labels, priorities={k: _priority(i, labels[k])
                                                                   for i, k in enumerate(frame.columns)})
            if start + self.BATCH < len(parts):
                self.call_after_refresh(self._mount_batch, generation, parts, start + self.BATCH,
                                        tables + len(fills))

        self.mount_all(widgets)
        self.call_after_refresh(fill)
