"""The minutes in the three formats a team sends them in, all from the one markdown document
(``exports.minutes``): markdown for a wiki or a repository, HTML for mail and Confluence, plain text for a
mail body or a ticket. HTML and text are rendered from the markdown's parse (markdown-it-py, CommonMark
with GFM tables), so every format holds the same sections, tables and escaping decisions; raw HTML in the
source is never passed through (user text is escaped before it gets there, and the parser is told to
treat any HTML as text)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from exports.sanitize import plain

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

FORMATS = ("md", "html", "txt")
STYLE = ("body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;line-height:1.45;max-width:60em}"
         "table{border-collapse:collapse;margin:0.5em 0}th,td{border:1px solid #c8c8c8;padding:2px 8px}"
         "th{background:#f2f2f2}blockquote{border-left:3px solid #c8c8c8;margin:0.5em 0;padding:0 0.8em;"
         "color:#444}")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def to_html(markdown: str, title: str) -> str:
    """A whole HTML document (UTF-8, a little inline CSS that mail clients keep) of the minutes."""
    body = _parser().render(markdown)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(plain(title, one_line=True))}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n{body}</body>\n</html>\n")


def _inline_text(token: Token) -> str:
    out = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


def _table(rows: Sequence[Sequence[str]], aligns: Sequence[str]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if a == "right" else c.ljust(w)
                         for c, w, a in zip(cells, widths, aligns, strict=True)).rstrip()

    return [line(rows[0]), "  ".join("-" * w for w in widths), *(line(r) for r in rows[1:])]


def to_text(markdown: str) -> str:
    """The minutes as plain text: headings underlined, tables aligned in columns, lists and quotes as a
    mail would show them, no markdown escapes left."""
    tokens = _parser().parse(markdown)
    blocks: list[list[str]] = []
    quote = 0
    lists: list[str] = []
    table_rows: list[list[str]] = []
    aligns: list[str] = []
    pending_item = False

    def emit(lines: list[str]) -> None:
        nonlocal pending_item
        prefix = "> " * quote
        indent = "  " * max(len(lists) - 1, 0)
        if pending_item:
            lines = [indent + "- " + lines[0], *(indent + "  " + x for x in lines[1:])]
            pending_item = False
        elif lists:
            lines = [indent + "  " + x for x in lines]
        blocks.append([(prefix + x).rstrip() for x in lines])

    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.type == "heading_open":
            text = _inline_text(tokens[i + 1])
            mark = {"h1": "=", "h2": "-", "h3": "~"}.get(t.tag)
            emit([text, mark * len(text)] if mark else [text])
            i += 3
            continue
        if t.type == "paragraph_open":
            emit(_inline_text(tokens[i + 1]).split("\n"))
            i += 3
            continue
        if t.type == "blockquote_open":
            quote += 1
        elif t.type == "blockquote_close":
            quote -= 1
        elif t.type in ("bullet_list_open", "ordered_list_open"):
            lists.append(t.type)
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t.type == "list_item_open":
            pending_item = True
        elif t.type == "table_open":
            table_rows, aligns = [], []
        elif t.type == "tr_open":
            table_rows.append([])
        elif t.type in ("th_open", "td_open"):
            table_rows[-1].append(_inline_text(tokens[i + 1]))
            if t.type == "th_open":
                style = str(t.attrGet("style") or "")
                aligns.append("right" if "right" in style else "left")
        elif t.type == "table_close":
            emit(_table(table_rows, aligns))
        elif t.type in ("fence", "code_block"):
            emit(t.content.rstrip("\n").split("\n"))
        elif t.type == "hr":
            emit(["-" * 20])
        i += 1
    # Items of one list stay together; everything else is separated by a blank line.
    out: list[str] = []
    for b in blocks:
        tight = out and b and b[0].lstrip("> ").lstrip().startswith("- ") and out[-1].lstrip("> ").lstrip().startswith("- ")
        if out and not tight:
            out.append("")
        out.extend(b)
    return plain("\n".join(out)).rstrip("\n") + "\n"


def render(markdown: str, fmt: str, title: str) -> str:
    """``markdown`` (the minutes) in ``fmt``: ``md``, ``html`` or ``txt``."""
    if fmt == "md":
        return markdown
    if fmt == "html":
        return to_html(markdown, title)
    if fmt == "txt":
        return to_text(markdown)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
