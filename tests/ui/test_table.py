"""The app's one table (FrameTable) driven by Pilot: sort by a key and by a header click, `/` filtering with the
matches highlighted, `y`/`Y` copying through the app's clipboard, `e` exporting what is shown as CSV and
markdown, and columns hidden by priority (identifying and money columns kept) when the terminal narrows."""

from __future__ import annotations

import csv

import pandas as pd
from textual.app import App, ComposeResult

from finops_tui.widgets.data_table import FrameTable, TableFilter
from tests.workers import workers_done

TEAMS = ["web", "[search]", "data|lake", "ml", "platform"]
COSTS = [120.5, 3400.0, None, 88.25, 950.0]
NOTES = ["rightsizing due", "tag leak in prod", "new workload", "gpu spike", "shared VPC"]


def frame() -> pd.DataFrame:
    return pd.DataFrame({"team": TEAMS, "cost": COSTS, "rows": [3, 40, 7, 1, 12], "note": NOTES,
                         "region": ["us-east-1", "eu-west-1", "us-east-1", "us-west-2", "eu-west-1"]},
                        dtype=object)


class TableApp(App[None]):
    def __init__(self, home) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.home = home

    def compose(self) -> ComposeResult:
        yield FrameTable(export_name="team costs", id="table")


def shown_column(table: FrameTable, key: str) -> list[str]:
    index = [c.key for c in table.shown_columns].index(key)
    return [table.get_cell_at((r, index)).plain for r in range(table.row_count)]


async def test_sort_by_key_and_by_header_click(home) -> None:
    app = TableApp(home)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(FrameTable)
        table.load_frame(frame(), currency="USD")
        table.focus()
        await pilot.pause()
        await pilot.press("right")  # the column cursor on `cost`
        await pilot.press("o")
        known = sorted(c for c in COSTS if c is not None)
        want = [f"{c:,.2f} USD" for c in known] + ["-"]  # no value sorts last
        assert shown_column(table, "cost") == want
        await pilot.press("o")  # again: reversed, still missing last
        assert shown_column(table, "cost") == [f"{c:,.2f} USD" for c in reversed(known)] + ["-"]
        # money is right-aligned and carries its unit
        assert table.get_cell_at((0, 1)).justify == "right"

        await pilot.click(FrameTable, offset=(3, 0))  # the `team` header
        await pilot.pause()
        assert table.sort_column == "team"
        assert shown_column(table, "team") == sorted(TEAMS, key=str.lower)


async def test_filter_as_you_type_highlights_and_escape_clears(home) -> None:
    app = TableApp(home)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(FrameTable)
        table.load_frame(frame(), currency="USD")
        table.focus()
        await pilot.press("slash")
        assert isinstance(app.focused, TableFilter)
        await pilot.press("e", "a", "s", "t")
        await pilot.pause()
        want = [t for t, r in zip(TEAMS, frame()["region"], strict=True) if "east" in r]
        assert shown_column(table, "team") == want
        region = [c.key for c in table.shown_columns].index("region")
        cell = table.get_cell_at((0, region))
        start = cell.plain.lower().index("east")
        assert any(span.start == start and span.end == start + 4 for span in cell.spans)
        await pilot.press("enter")  # keeps the filter, back to the table
        assert app.focused is table and table.row_count == len(want)
        await pilot.press("slash")
        await pilot.press("escape")  # clears it
        await pilot.pause()
        assert app.focused is table and table.row_count == len(TEAMS) and not app.query(TableFilter)


async def test_copy_cell_and_row_through_the_clipboard(home) -> None:
    app = TableApp(home)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(FrameTable)
        table.load_frame(frame(), currency="USD")
        table.focus()
        await pilot.press("down", "right", "y")
        assert app.clipboard == f"{COSTS[1]:,.2f} USD"
        await pilot.press("Y")
        assert app.clipboard.split("\t") == [TEAMS[1], f"{COSTS[1]:,.2f} USD", "40", NOTES[1], "eu-west-1"]


async def test_export_writes_what_is_shown_as_csv_and_markdown(home) -> None:
    app = TableApp(home)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(FrameTable)
        table.load_frame(frame(), currency="USD")
        table.focus()
        table.sort_by("rows", reverse=True)
        table.set_filter("-1")  # only the regions hold "-1" (us-west-2 does not)
        for choice in ("csv", "md"):
            await pilot.press("e")
            await pilot.pause()
            if choice == "md":
                await pilot.press("down")
            await pilot.press("enter")
            await workers_done(app)
            await pilot.pause()
        kept = [i for i, r in enumerate(frame()["region"]) if "-1" in r]
        order = sorted(kept, key=lambda i: -frame()["rows"][i])
        [written_csv] = list((home.path / "exports").glob("team-costs-*.csv"))
        with written_csv.open(newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == ["team", "cost", "rows", "note", "region"]
        assert [r[0] for r in rows[1:]] == [TEAMS[i] for i in order]
        assert [r[1] for r in rows[1:]] == ["" if COSTS[i] is None else str(COSTS[i]) for i in order]
        [written_md] = list((home.path / "exports").glob("team-costs-*.md"))
        text = written_md.read_text()
        assert "| team ▲ |" not in text and "| team | cost | rows | note | region |" in text
        assert "|---|---:|---:|---|---|" in text
        assert "| [search] | 3,400.00 USD | 40 |" in text and "data\\|lake" in text  # only the pipe is markup


async def test_narrow_table_keeps_identifying_and_money_columns(home) -> None:
    app = TableApp(home)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(FrameTable)
        table.load_frame(frame(), currency="USD", priorities={"note": 2, "region": 1, "rows": 3})
        await pilot.pause()
        assert [c.key for c in table.shown_columns] == ["team", "cost", "rows", "note", "region"]
        await pilot.resize_terminal(36, 20)
        await pilot.pause()
        await pilot.pause()
        # rows (3) goes first, then note (2): team and cost never go
        assert [c.key for c in table.shown_columns] == ["team", "cost", "region"]
        await pilot.resize_terminal(20, 20)
        await pilot.pause()
        await pilot.pause()
        assert [c.key for c in table.shown_columns] == ["team", "cost"]


async def test_right_scrolls_a_whole_column_and_jk_move_only_where_free(home) -> None:
    wide = pd.DataFrame({f"col{i}": [f"value-{i}-{'x' * 12}", f"other-{i}"] for i in range(8)}, dtype=object)
    app = TableApp(home)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FrameTable)
        table.load_frame(wide, priorities={c: 0 for c in wide.columns})  # nothing may hide: it must scroll
        table.focus()
        await pilot.pause()
        edges = table._column_left_edges()
        assert table.max_scroll_x > 0
        for _ in range(5):
            await pilot.press("right")
            await pilot.pause()
        assert table.current_column.key == "col5"
        assert table.scroll_x in edges and table.scroll_x > 0  # never stopped inside a column
        assert edges[5] >= table.scroll_x
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("k")
        assert table.cursor_row == 0
        table.vim_keys = False  # the triage screen binds k itself
        await pilot.press("j")
        assert table.cursor_row == 0


async def test_records_show_sort_and_export_as_the_same_frame_does(home) -> None:
    """``load_records`` (rows as mappings, the sweep's tables) fills the table exactly as ``load_frame`` does
    with the same data: cells, the sort and what an export writes; a field a record lacks is empty."""
    app = TableApp(home)
    records = frame().to_dict("records")
    columns = ["team", "cost", "rows", "note", "region"]
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(FrameTable)
        table.load_frame(frame(), currency="USD")
        table.sort_by("cost", reverse=True)
        from_frame = ([[c.plain for c in row] for row in table.cells], table.order, [list(r) for r in table.table_data().raw])
        table.load_records(records, columns, currency="USD")
        table.sort_by("cost", reverse=True)
        await pilot.pause()
        assert ([[c.plain for c in row] for row in table.cells], table.order, [list(r) for r in table.table_data().raw]) == from_frame
        assert shown_column(table, "cost")[-1] == "-"  # the missing cost sorts last, as from the frame
        table.load_records([{"team": "web"}], ["team", "cost"])
        assert [c.plain for c in table.cells[0]] == ["web", "-"]
