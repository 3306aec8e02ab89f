"""Text from data or people as it goes into a widget: a rich ``Text`` (never markup) of the sanitised
value (exports.sanitize.plain: no terminal control sequence or control byte reaches the screen)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from exports.sanitize import plain


def safe_text(value: Any = "", *args: Any, one_line: bool = False, **kwargs: Any) -> Text:
    """``Text(value)`` without control characters; ``one_line`` also folds line breaks and tabs."""
    return Text(plain(value, one_line=one_line), *args, **kwargs)


def cell(value: Any = "", *args: Any, **kwargs: Any) -> Text:
    """A table cell: one line, so a value with line breaks or escape sequences never changes the grid."""
    return safe_text(value, *args, one_line=True, **kwargs)


def _safe(content: Any) -> Any:
    """A str or Text of data made safe; other visuals (tables, renderables built of safe parts) as they are."""
    if isinstance(content, str):
        return plain(content)
    if isinstance(content, Text):
        clean = plain(content.plain)
        return content if clean == content.plain else Text(clean, style=content.style)
    return content


class SafeStatic(Static):
    """A Static whose text (at creation and at every ``update``) has passed the sanitiser."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(_safe(content), **kwargs)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(_safe(content), layout=layout)
