"""Clicking a Textual Button from Pilot the way a person does.

Textual 8.2's Button ignores a click (and ``action_press``) while its press effect runs: it carries the
``-active`` class for ``active_effect_duration`` (0.2 s) after each press. A person never clicks the same
button twice that fast, but a Pilot test does, and the second click is silently dropped. ``click_button``
waits out the effect of the previous press before it clicks, so every click it makes is one the button
accepts.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Button


async def click_button(pilot: Pilot, selector: str) -> None:
    """Click the button ``selector`` on the current screen once its previous press effect has ended."""
    button = pilot.app.screen.query_one(selector, Button)
    for _ in range(100):  # at most 5 s; the effect lasts active_effect_duration (0.2 s)
        if not button.has_class("-active"):
            break
        await pilot.pause(0.05)
    assert not button.has_class("-active"), f"{selector} is still showing its previous press"
    assert await pilot.click(selector), f"the click on {selector} did not land on it"
