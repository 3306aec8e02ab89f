"""A table as the TUI shows it, written to a file: CSV (the csv module; raw numbers, text sanitised) or a
markdown document (the exports.markdown helpers; the displayed text, escaped). The TUI's table widget hands
over what it shows (the filtered rows, in the sorted order, every column including those hidden for width),
so the file and the screen agree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exports import markdown as md
from exports.sanitize import plain

FORMATS = ("csv", "md")


@dataclass(frozen=True)
class TableData:
    """``keys`` name the columns in CSV (stable, machine-readable); ``labels`` head them in markdown.
    ``raw`` holds the values (numbers stay numbers), ``shown`` the text on screen; ``numeric`` marks
    right-aligned columns."""

    title: str
    keys: Sequence[str]
    labels: Sequence[str]
    numeric: Sequence[bool]
    raw: Sequence[Sequence[Any]]
    shown: Sequence[Sequence[str]]


def _csv_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if type(value).__name__ in ("NAType", "NaTType"):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if hasattr(value, "plain"):  # a rich Text cell
        return plain(value.plain)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return plain(value)


def csv_text(table: TableData) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([plain(k, one_line=True) for k in table.keys])
    for row in table.raw:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue()


def markdown_text(table: TableData) -> str:
    headers = [md.cell(plain(label)) for label in table.labels]
    rows = [[md.cell(plain(text)) for text in row] for row in table.shown]
    align = ["right" if n else "left" for n in table.numeric]
    count = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    return f"# {md.inline(plain(table.title))}\n\n{count}\n\n{md.table(headers, rows, align)}\n"


def write_table(table: TableData, path: Path, fmt: str) -> Path:
    """Write ``table`` as ``fmt`` (``csv`` or ``md``) to ``path``, creating its folder."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    text = csv_text(table) if fmt == "csv" else markdown_text(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return path
