"""Text from data or people as it goes into a widget: a rich ``Text`` (never markup) of the sanitised
value (exports.sanitize.plain: no terminal control sequence or control byte reaches the screen)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from exports.sanitize import plain


def safe_text(value: Any = "", *args: Any, one_line: bool = False, **kwargs: Any) -> Text:
    """``Text(value)`` without control characters; ``one_line`` also folds line breaks and tabs."""
    return Text(plain(value, one_line=one_line), *args, **kwargs)


def cell(value: Any = "", *args: Any, **kwargs: Any) -> Text:
    """A table cell: one line, so a value with line breaks or escape sequences never changes the grid."""
    return safe_text(value, *args, one_line=True, **kwargs)
