"""A SelectionList whose boxes read without colour: ``[x]`` ticked, ``[ ]`` not (Textual's draws the same "X"
for both and tells them apart by colour alone). Focusing it highlights the first option, so the cursor is
visible from the first key press."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

TICKED = "[x]"
UNTICKED = "[ ]"


class CheckList(SelectionList[Any]):
    def _get_left_gutter_width(self) -> int:
        return len(TICKED) + 1

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the prompt, without SelectionList's coloured button
        index = self.scroll_offset.y + y
        try:
            option = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        style = "selection-list--button"
        if option.value in self._selected:
            style += "-selected"
        if self.highlighted == index:
            style += "-highlighted"
        under = next(iter(line)).style or self.rich_style
        ticked = option.value in self._selected
        # the button's colour as the glyph's colour: still there, no longer the only sign
        button = self.get_component_rich_style(style)
        box_style = under + Style(color=button.bgcolor, bold=ticked, meta={"option": index})
        box = TICKED if ticked else UNTICKED
        return Strip([Segment(box, box_style), Segment(" ", under), *line])

    def on_focus(self, event: Any) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0
