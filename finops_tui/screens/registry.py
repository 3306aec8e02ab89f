"""Which ritual has a screen: kind -> "module:Class". A ritual issue adds its line when its screen exists;
the board says "not built yet" for the others rather than inventing numbers."""

from __future__ import annotations

import importlib
from importlib.util import find_spec

from textual.screen import Screen

from storage.home import Home

RITUAL_SCREENS: dict[str, str] = {
    "monthly_review": "finops_tui.screens.monthly_review:MonthlyReviewScreen",
    "commitment_review": "finops_tui.screens.commitment_review:CommitmentReviewScreen",
    "tag_sweep": "finops_tui.screens.tag_sweep:TagSweepScreen",
    "anomaly_triage": "finops_tui.screens.anomaly_triage:AnomalyTriageScreen",
    "quarterly_review": "finops_tui.screens.quarterly_review:QuarterlyReviewScreen",
}


def is_built(kind: str) -> bool:
    target = RITUAL_SCREENS.get(kind)
    return bool(target) and find_spec(target.split(":")[0]) is not None


def ritual_screen(kind: str, home: Home) -> Screen | None:
    """A fresh screen for the ritual, or None while the ritual is not built."""
    if not is_built(kind):
        return None
    module, cls = RITUAL_SCREENS[kind].split(":")
    return getattr(importlib.import_module(module), cls)(home)
