"""Safe, readable GitHub-flavoured markdown from user text and frozen figures.

Text is escaped only where markdown would read it as markup, in the position it lands in:

- ``cell`` (a table cell): one line; ``|`` and the inline markup characters are escaped;
- ``inline`` (a sentence, a heading, a list item): the same, plus a line start that would open a block
  (heading, list, quote, fence, rule, setext underline, link definition) is neutralised;
- ``block`` (a note of several lines): paragraphs of ``inline`` lines, single newlines kept as hard breaks.

So ``61.3%``, ``[bold]``, ``snake_case`` and ``a < b`` stay as typed, while HTML tags, entities, links,
images, emphasis, code spans and math stay inert text. Everything is passed through
``exports.sanitize.plain`` first: no terminal control bytes reach a minutes file. Rituals build their
minutes sections with these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from exports.sanitize import plain

_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_TAG_START = re.compile(r"[A-Za-z/!?]")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")
_HEADING = re.compile(r"^#{1,6}(?=\s|$)")
_BULLET = re.compile(r"^[-+*](?=\s|$)")
_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_RULE = re.compile(r"^(?:=+|-+|(?:-\s*){3,})\s*$")
_DEFINITION = re.compile(r"^\[[^\]]*(?:\]:|$)")  # a link or footnote definition, or its label's first line


def _space(ch: str) -> bool:
    return ch == "" or ch.isspace()


def _escape_inline(text: str) -> str:
    """Escape, character by character, only what would open inline markup here."""
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < n else ""
        if ch == "\\":
            out.append("\\\\" if after == "" or after in _PUNCT else ch)
        elif ch in "`~$|":
            out.append("\\" + ch)
        elif ch == "*":
            out.append(ch if _space(before) and _space(after) else "\\*")
        elif ch == "_":
            intraword = before.isalnum() and after.isalnum()
            out.append(ch if intraword or (_space(before) and _space(after)) else "\\_")
        elif ch == "]":
            out.append("\\]" if after == "(" else ch)  # an inline link or image needs "](" exactly
        elif ch == "<":
            out.append("&lt;" if _TAG_START.match(after) else ch)  # a tag, comment or autolink
        elif ch == "&":
            out.append("&amp;" if _ENTITY.match(text, i) else ch)
        else:
            out.append(ch)
    return "".join(out)


def _escape_start(line: str) -> str:
    """A line (already escaped inline, no leading space) that must not open a block."""
    if _HEADING.match(line) or _BULLET.match(line) or _RULE.match(line) or line[:1] == ">" or _DEFINITION.match(line):
        return "\\" + line
    return _ORDERED.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", line, count=1)


def _lines(text: Any) -> list[str]:
    return plain(text).expandtabs(4).split("\n")


def inline(text: Any) -> str:
    """Text for a sentence, a heading or a list item: one line, safe at a line start too."""
    joined = " ".join(line.strip() for line in _lines(text) if line.strip())
    return _escape_start(_escape_inline(joined))


def cell(text: Any) -> str:
    """Text for a table cell: one line (line breaks become spaces), pipes escaped; never empty."""
    joined = " ".join(line.strip() for line in _lines(text) if line.strip())
    return _escape_inline(joined) or " "


def block(text: Any, prefix: str = "") -> str:
    """A multi-line note as paragraphs; single newlines are kept as hard line breaks. ``prefix`` starts
    every line after the first (a list item's indent, or ``"> "`` inside a quote)."""
    paragraphs: list[list[str]] = [[]]
    for line in _lines(text):
        if line.strip():
            paragraphs[-1].append(_escape_start(_escape_inline(line.strip())))
        elif paragraphs[-1]:
            paragraphs.append([])
    joined = [("\\\n" + prefix).join(p) for p in paragraphs if p]
    return ("\n" + prefix.rstrip() + "\n" + prefix).join(joined)


def quote(text: Any, lead: str = "") -> str:
    """``text`` as a block quote (notes and comments set apart from the figures), ``lead`` (markdown,
    already escaped) opening its first line."""
    body = block(text, "> ")
    return "> " + (f"{lead} " if lead else "") + body if body else ""


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> str:
    """A GFM table; ``headers`` and ``rows`` must already be escaped (use ``cell``). At most eight
    columns: a wider table does not read in a wiki page or a mail, so it is refused."""
    if len(headers) > MAX_COLUMNS:
        raise ValueError(f"a minutes table has at most {MAX_COLUMNS} columns, got {len(headers)}")
    marks = {"left": "---", "right": "---:", "center": ":---:"}
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join(marks[a] for a in (align or ["left"] * len(headers))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


MAX_COLUMNS = 8


def bullets(items: Iterable[str], indent: str = "") -> str:
    """A list of already escaped items (one line each)."""
    return "\n".join(f"{indent}- {item}" for item in items)
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
    """The text ``cell`` escaped: backslash escapes (a backslash before ASCII punctuation, as CommonMark
    reads it) and entities undone, ``<br>`` back to a newline."""
    if text.strip() == "":
        return ""
    lines = []
    for part in text.split("<br>"):
        out, i = [], 0
        while i < len(part):
            if part[i] == "\\" and i + 1 < len(part) and part[i + 1] in _PUNCT:
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
