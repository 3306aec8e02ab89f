"""The text sanitiser: no terminal control byte survives, readable text is kept as it was."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from exports.sanitize import has_controls, plain

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_known_sequences_are_removed_and_text_kept() -> None:
    assert plain("\x1b[31mansi\x1b[0m team") == "ansi team"
    assert plain("a\x1b]52;c;ZXZpbA==\x07b") == "ab"  # OSC 52 clipboard write
    assert plain("a\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\") == "alink"  # OSC 8 hyperlink
    assert plain("nul\x00byte") == "nulbyte"
    assert plain("over\rwrite") == "over\nwrite"
    assert plain("tab\tand\nline") == "tab\tand\nline"
    assert plain("tab\tand\nline", one_line=True) == "tab and line"
    assert plain(None) == ""
    assert plain(12.5) == "12.5"
    assert plain("Zürich – 東京 ✓") == "Zürich – 東京 ✓"
    assert plain("\x9b31mc1 csi") == "c1 csi"
    assert has_controls("\x1b[1m") and not has_controls("plain text\n")


@given(st.text())
def test_no_control_byte_survives(text: str) -> None:
    out = plain(text)
    assert not CONTROL.search(out)
    assert "\r" not in out
    assert plain(out) == out  # idempotent


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc",))))
def test_text_without_controls_is_unchanged(text: str) -> None:
    assert plain(text) == text
