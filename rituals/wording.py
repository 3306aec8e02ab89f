"""Counts in words, the same on every surface: "1 event", "2 events", "1 tag-fix action"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun``, plural unless the count is one (``plural`` when the noun is irregular:
    ``counted(2, "anomaly", "anomalies")``)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
