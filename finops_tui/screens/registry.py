"""Which screen holds each ritual's meeting: one line per ritual of ``rituals.ritual.RITUALS``; a test
holds the two equal, so a ritual cannot exist without its screen."""

from __future__ import annotations

import importlib
import pkgutil
import sys

from textual.screen import Screen

from rituals.definitions.anomaly_triage import KIND as ANOMALY_TRIAGE
from rituals.definitions.commitment_review import KIND as COMMITMENT_REVIEW
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
from rituals.definitions.quarterly_review import KIND as QUARTERLY_REVIEW
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP
from storage.home import Home

RITUAL_SCREENS: dict[str, str] = {
    TAG_SWEEP: "finops_tui.screens.tag_sweep:TagSweepScreen",
    ANOMALY_TRIAGE: "finops_tui.screens.anomaly_triage:AnomalyTriageScreen",
    COMMITMENT_REVIEW: "finops_tui.screens.commitment_review:CommitmentReviewScreen",
    MONTHLY_REVIEW: "finops_tui.screens.monthly_review:MonthlyReviewScreen",
    QUARTERLY_REVIEW: "finops_tui.screens.quarterly_review:QuarterlyReviewScreen",
}


def screen_class(kind: str) -> type[Screen[None]]:
    from rituals.ritual import ritual

    ritual(kind)  # an unknown kind is a ValueError naming the known ones
    module, cls = RITUAL_SCREENS[kind].split(":")
    found: type[Screen[None]] = getattr(importlib.import_module(module), cls)
    return found


def ritual_screen(kind: str, home: Home, period: str | None = None) -> Screen[None]:
    """A fresh screen holding the ritual's run of ``period`` (default: the period due now)."""
    return screen_class(kind)(home, period)  # type: ignore[call-arg]


# What a ritual screen imports as it opens besides its own module: the logic its findings are computed with
# (most of it imported lazily, inside the functions) and the chart widget the quarterly review draws.
PRELOADED_PACKAGES = ("rituals", "exports")
PRELOADED_MODULES = ("textual_plotext",)


def preload() -> list[str]:
    """Import every ritual's screen and the modules its findings use, so opening one does not pay for its
    imports (about half a second on a cold process, taken from the main thread while the screen paints).
    Meant for a worker once the board has settled; returns the modules this call imported. A module that
    cannot be imported here (an optional package missing) is left for its screen to report when opened."""
    before = set(sys.modules)
    names = [target.split(":")[0] for target in RITUAL_SCREENS.values()]
    for package in PRELOADED_PACKAGES:
        names += [package] + [found.name for found in
                              pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}.")]
    for name in (*names, *PRELOADED_MODULES):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    return sorted(set(sys.modules) - before)
