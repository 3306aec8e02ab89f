"""Safe GitHub-flavoured markdown from user text and frozen numbers.

User text (notes, decisions, names, tag values) never becomes markup: HTML is entity-escaped, markdown
punctuation is backslash-escaped, line starts that would open a heading, list, quote, code block or
setext underline are neutralised, and a newline inside a table cell becomes ``<br>``. Rituals that add
their own minutes sections build them with these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

_BACKSLASHED = set("\\`*_[]|#~$")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ORDERED = re.compile(r"^(\d+)([.)])")
MONEY_WORDS = re.compile(r"(cost|spend|amount|budget|forecast|saving|price|billed|charge|total|variance|"
                         r"delta|waste|commitment_value|invoice|money)")
NOT_MONEY_SUFFIXES = ("_pct", "_count", "count", "_rows", "rows", "_hours", "_days", "_ratio", "_id")


def _escape_chars(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _BACKSLASHED:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _lines(text: Any) -> list[str]:
    raw = "" if text is None else str(text)
    return raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _escape_line(line: str) -> str:
    """One line, safe at the start of a markdown block."""
    body = line.rstrip().expandtabs(4)
    stripped = body.lstrip(" ")
    indent = "&#32;" * (len(body) - len(stripped))  # a literal space: no indented code block
    escaped = _escape_chars(stripped)
    if escaped[:1] in ("-", "+", "="):
        escaped = "\\" + escaped
    escaped = _ORDERED.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", escaped)
    return indent + escaped


def inline(text: Any) -> str:
    """Text for a heading, a list item or a sentence: one line."""
    return " ".join(_escape_line(line) for line in _lines(text) if line.strip())


def cell(text: Any) -> str:
    """Text for a table cell: pipes escaped, newlines as ``<br>``."""
    # Cells are not parsed as blocks, so only characters need escaping, not line starts.
    lines = [_escape_chars(line.strip()) for line in _lines(text)]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "<br>".join(lines) or " "


def block(text: Any, indent: str = "") -> str:
    """A multi-line note as paragraphs; single newlines are kept as hard line breaks."""
    paragraphs: list[list[str]] = [[]]
    for line in _lines(text):
        if line.strip():
            paragraphs[-1].append(_escape_line(line))
        elif paragraphs[-1]:
            paragraphs.append([])
    joined = [("\\\n" + indent).join(p) for p in paragraphs if p]
    return ("\n\n" + indent).join(joined)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> str:
    """A GFM table; ``headers`` and ``rows`` must already be escaped (use ``cell``)."""
    marks = {"left": "---", "right": "---:", "center": ":---:"}
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join(marks[a] for a in (align or ["left"] * len(headers))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# -- numbers ------------------------------------------------------------------------------------------
def label(key: str) -> str:
    """``allocation_coverage_pct`` -> ``allocation coverage %``; nesting shown with `` / ``."""
    parts = []
    for part in key.split("."):
        text = part[:-4] + " %" if part.endswith("_pct") else part
        parts.append(text.replace("_", " ").strip())
    return " / ".join(parts)


def is_money(key: str) -> bool:
    """A money figure: a money word anywhere in the (dotted) key, and no count/percent/time suffix."""
    return bool(MONEY_WORDS.search(key.lower())) and not key.rsplit(".", 1)[-1].lower().endswith(NOT_MONEY_SUFFIXES)


def _plain_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) < 1:
        return f"{value:.3g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def value_text(key: str, value: Any, currency: str | None) -> str:
    """A frozen value as display text (not yet escaped): percentages, money with currency, counts."""
    last = key.rsplit(".", 1)[-1]
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if last.endswith("_pct"):
            return f"{value:,.1f}%"
        if currency and is_money(key):
            return f"{value:,.2f} {currency}"
        return _plain_number(float(value)) if isinstance(value, float) else f"{value:,}"
    if isinstance(value, list):
        return ", ".join(value_text(key, v, currency) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_text(k, v, currency)}" for k, v in value.items())
    return str(value)


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted keys; lists stay as values."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def rows_table(rows: list[dict[str, Any]], currency: str | None) -> str:
    """A list of dicts as a table: columns in order of first appearance, nested dicts flattened."""
    flat = [flatten(r) for r in rows]
    columns: list[str] = list(dict.fromkeys(k for r in flat for k in r))
    numeric = [all(isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool)
                   for r in flat if r.get(c) is not None) and any(r.get(c) is not None for r in flat)
               for c in columns]
    body = []
    for r in flat:
        row_currency = r.get("currency") if isinstance(r.get("currency"), str) else currency
        body.append([cell(value_text(c, r.get(c), row_currency)) for c in columns])
    return table([cell(label(c)) for c in columns], body, ["right" if n else "left" for n in numeric])


def numbers_sections(numbers: dict[str, Any]) -> list[tuple[str, str]]:
    """The frozen numbers as (heading, table) pairs: first the scalars as one key/value table (heading
    empty), then one table per list of rows, in the order the ritual wrote them."""
    currency = numbers.get("currency") if isinstance(numbers.get("currency"), str) else None
    flat = flatten(numbers)
    scalars = [(k, v) for k, v in flat.items() if not _is_rows(v)]
    out: list[tuple[str, str]] = []
    if scalars:
        out.append(("", table(["figure", "value"],
                              [[cell(label(k)), cell(value_text(k, v, currency))] for k, v in scalars],
                              ["left", "right"])))
    for key, value in flat.items():
        if _is_rows(value):
            out.append((inline(label(key)), rows_table(value, currency)))
    return out


# -- reading our own tables back (the TUI shows an item's tables as sortable tables, not as text) --------------
_ENTITY_BACK = re.compile(r"&(amp|lt|gt|#32);")
_ENTITY_TEXT = {"amp": "&", "lt": "<", "gt": ">", "#32": " "}
_ALIGN_BACK = {"---": "left", "---:": "right", ":---:": "center"}


def _split_row(line: str) -> list[str]:
    """The raw (still escaped) cells of ``| a | b |``: a backslash escapes the next character."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    cells, current, i = [], [], 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\" and i + 1 < len(inner):
            current.append(inner[i:i + 2])
            i += 2
            continue
        if ch == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if "".join(current).strip():
        cells.append("".join(current))
    return [c.strip() for c in cells]


def uncell(text: str) -> str:
    """The text ``cell`` escaped: backslash escapes and entities undone, ``<br>`` back to a newline."""
    if text.strip() == "":
        return ""
    lines = []
    for part in text.split("<br>"):
        out, i = [], 0
        while i < len(part):
            if part[i] == "\\" and i + 1 < len(part):
                out.append(part[i + 1])
                i += 2
                continue
            out.append(part[i])
            i += 1
        lines.append(_ENTITY_BACK.sub(lambda m: _ENTITY_TEXT[m.group(1)], "".join(out)))
    return "\n".join(lines)


def is_table_line(line: str) -> bool:
    return line.lstrip().startswith("|")


def parse_table(lines: Sequence[str]) -> tuple[list[str], list[list[str]], list[str]]:
    """Headers, rows and alignments of a table ``table`` wrote (cells as ``cell`` escaped them)."""
    if len(lines) < 2:
        raise ValueError("a table needs a header line and an alignment line")
    headers = [uncell(c) for c in _split_row(lines[0])]
    align = [_ALIGN_BACK.get(c.strip(), "left") for c in lines[1].strip().strip("|").split("|")]
    rows = [[uncell(c) for c in _split_row(line)] for line in lines[2:]]
    return headers, rows, align
