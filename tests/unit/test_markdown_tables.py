"""exports.markdown.parse_table reads back what table()/cell() wrote, for any text (hypothesis): the TUI
shows the monthly agenda's tables as its own sortable tables from the same markdown the minutes carry."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from exports import markdown as md
from exports.sanitize import plain


def normal(text: str) -> str:
    """What a cell keeps of a text: one line, without control bytes (``exports.sanitize.plain``), its lines
    stripped and joined by a space."""

    return " ".join(line.strip() for line in plain(text).expandtabs(4).split("\n") if line.strip())


cells = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@given(st.lists(st.lists(cells, min_size=3, max_size=3), max_size=5))
def test_parse_table_reads_back_any_text(rows: list[list[str]]) -> None:
    headers = ["team", "cost | total", "note \\ [x]"]
    text = md.table([md.cell(h) for h in headers], [[md.cell(c) for c in r] for r in rows],
                    ["left", "right", "center"])
    got_headers, got_rows, align = md.parse_table(text.split("\n"))
    assert got_headers == headers and align == ["left", "right", "center"]
    assert got_rows == [[normal(c) for c in r] for r in rows]


def test_a_cell_ending_in_a_backslash_keeps_its_neighbour() -> None:
    text = md.table(["a", "b"], [[md.cell("ends\\"), md.cell("|next&lt;")]])
    assert md.parse_table(text.split("\n"))[1] == [["ends\\", "|next&lt;"]]
