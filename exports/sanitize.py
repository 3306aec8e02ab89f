"""The one text sanitiser, as renderers use it: every renderer (minutes, digest, notifications, CLI tables,
TUI cells) passes user and data text through ``plain`` before any markdown or HTML escaping of its own.

The implementation is ``storage.text`` (the importer uses it too, and storage imports nothing above it);
this module is its public name for everything that renders.
"""

from __future__ import annotations

from storage.text import has_controls, one_line_plain, plain

__all__ = ["has_controls", "one_line_plain", "plain"]
