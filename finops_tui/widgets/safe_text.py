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


def clean_text(text: Text, *, one_line: bool = False) -> Text:
    """A Text built elsewhere (styled parts) through the same sanitiser: a copy of it when it holds nothing
    ``plain`` removes, else its sanitised text in its base style and justification."""
    clean = plain(text.plain, one_line=one_line)
    if clean == text.plain:
        return text.copy()
    return Text(clean, style=text.style, justify=text.justify)


def cell(value: Any = "", *args: Any, **kwargs: Any) -> Text:
    """A table cell: one line, so a value with line breaks or escape sequences never changes the grid.
    FrameTable's cells (widgets.data_table.cell_text) come through here, a ready Text included."""
    if isinstance(value, Text) and not args and not kwargs:
        return clean_text(value, one_line=True)
    return safe_text(value, *args, one_line=True, **kwargs)


def _safe(content: Any) -> Any:
    """A str or Text of data made safe; other visuals (tables, renderables built of safe parts) as they are."""
    if isinstance(content, str):
        return plain(content)
    if isinstance(content, Text):
        return clean_text(content)
    return content


class SafeStatic(Static):
    """A Static whose text (at creation and at every ``update``) has passed the sanitiser."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(_safe(content), **kwargs)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(_safe(content), layout=layout)
