"""The one text sanitiser for everything that leaves the product: terminals, files, chat and mail.

It lives in ``storage`` so that the importer (which strips control characters from free text with a
warning) uses the very same function; renderers import it as ``exports.sanitize.plain``.

Text from billing data or from people (team names, notes, tag values) may hold terminal control
sequences: ``ESC [ 31 m`` recolours a terminal, ``ESC ] 52`` writes the clipboard, a NUL truncates a C
string, a bare carriage return overwrites the line before it. ``plain`` removes them all and keeps the
readable text; every renderer (minutes, digest, notifications, CLI tables, TUI cells) passes user text
through it before any markdown or HTML escaping of its own.
"""

from __future__ import annotations

import re
from typing import Any

# ECMA-48 sequences as a terminal reads them: CSI (ESC [ or the C1 byte 0x9b) with parameter and
# intermediate bytes and a final byte; OSC, DCS, SOS, PM, APC strings up to BEL or ST (ESC \ or 0x9c), or
# to the end of the text when unterminated; any other two-byte ESC sequence.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
)
# What is left after the sequences: C0 controls except tab and newline, DEL and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: Any, *, one_line: bool = False) -> str:
    """``text`` without terminal control sequences or control characters.

    Tabs and newlines stay (``one_line`` turns every line break and tab into a space); ``\\r\\n`` and a lone
    ``\\r`` become ``\\n``. ``None`` is the empty string; anything else is ``str()``-ed first.
    """
    raw = "" if text is None else str(text)
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    raw = _CONTROL.sub("", _SEQUENCE.sub("", raw))
    if one_line:
        raw = " ".join(raw.split())
    return raw


# What an importer looks for in a stored value, in SQL (RE2): every character ``plain`` removes or a line
# break (billing text is one line). Tab is allowed (FOCUS free text may hold it).
CONTROL_SQL_CLASS = r"[\x00-\x08\x0a-\x1f\x7f\x{80}-\x{9f}]"


def one_line_plain(text: Any) -> str:
    """``plain`` for a one-line value (a name, a tag value): line breaks become spaces, tabs stay."""
    return plain(text).replace("\n", " ")


def has_controls(text: str) -> bool:
    """True when ``text`` holds anything ``plain`` would remove (tests and import warnings)."""
    return plain(text) != text.replace("\r\n", "\n").replace("\r", "\n")
