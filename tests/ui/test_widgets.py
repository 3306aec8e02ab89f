"""The reusable widgets: a trend chart drawn with plotext, a frame table of Text cells exporting CSV to
HOME/exports on `e` (more in test_table.py), and a KPI strip whose values are never markup."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Sparkline

from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.kpi_strip import Kpi, KpiStrip, KpiTile
from finops_tui.widgets.trend_chart import TrendChart
from tests.workers import workers_done


class WidgetsApp(App[None]):
    def __init__(self, home) -> None:
        super().__init__()
        self.home = home

    def compose(self) -> ComposeResult:
        yield KpiStrip([Kpi("coverage", "87.2%", "warn")], id="kpis")
        yield TrendChart("Daily spend", id="chart")
        yield FrameTable(export_name="team spend/[x]", id="table")


async def test_widgets_show_data_and_export_csv(home) -> None:
    app = WidgetsApp(home)
    frame = pd.DataFrame({"team": ["[web]", "search"], "spend": [1234.5, None], "rows": [3, 4]})
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(10)]
    async with app.run_test(size=(100, 40)) as pilot:
        chart = app.query_one(TrendChart)
        chart.plot({"spend": pd.Series([100.0 + i for i in range(10)], index=pd.to_datetime(days)),
                    "forecast": [(d, 105.0) for d in days]}, y_label="USD")
        table = app.query_one(FrameTable)
        table.load_frame(frame, formats={"spend": lambda v: "-" if pd.isna(v) else f"{v:,.2f} USD"})
        app.query_one(KpiStrip).set_kpis([Kpi("coverage", "[USD] 90.0%", "good"), Kpi("open actions", "4")])
        await pilot.pause()

        assert not chart.using_fallback and not chart.query(Sparkline)
        assert chart.series["spend"][0] == ("2026-11-01", 100.0) and len(chart.series["forecast"]) == 10
        assert "Daily spend" in chart.query_one("PlotextPlot").render().plain

        cell = table.get_cell_at((0, 0))
        assert isinstance(cell, Text) and cell.plain == "[web]"
        assert table.get_cell_at((1, 1)).plain == "-" and table.get_cell_at((0, 1)).plain == "1,234.50 USD"

        tiles = list(app.query(KpiTile))
        assert [t.render().plain.splitlines()[1] for t in tiles] == ["[USD] 90.0%", "4"]

        table.focus()
        await pilot.press("e")  # the format picker: CSV first
        await pilot.pause()
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        written = list((home.path / "exports").glob("*.csv"))
        assert len(written) == 1 and written[0].name.startswith("team-spend-x-")
        assert pd.read_csv(written[0])["team"].tolist() == ["[web]", "search"]
        assert any(str(written[0]) in n.message for n in app._notifications)


async def test_trend_chart_falls_back_to_a_sparkline_when_plotext_fails(home, monkeypatch) -> None:
    def broken(self) -> None:
        raise RuntimeError("plotext cannot draw here")

    monkeypatch.setattr(TrendChart, "_draw_plotext", broken)
    app = WidgetsApp(home)
    async with app.run_test(size=(100, 40)) as pilot:
        chart = app.query_one(TrendChart)
        chart.plot({"spend": [(date(2026, 11, 2), 2.0), (date(2026, 11, 1), 1.0)]})
        await pilot.pause()
        await pilot.pause()
        assert chart.using_fallback
        assert list(chart.query_one(Sparkline).data) == [1.0, 2.0]


async def test_kpi_tiles_never_break_a_word_at_80_columns(home) -> None:
    from textual.containers import Horizontal
    from textual.widgets import Static

    class Narrow(App[None]):
        def compose(self) -> ComposeResult:
            with Horizontal():
                yield Static("sidebar", id="side")  # the stepper's sidebar takes a third at 80 columns
                yield KpiStrip([Kpi("Coverage", "61.2%", "bad", "target 75.0%"), Kpi("Utilisation", "97.4%", "good"),
                                Kpi("Savings rate", "21.0%"), Kpi("Unused commitment", "1,234 USD")], id="kpis")

    app = Narrow()
    app.CSS = "#side { width: 27; } KpiStrip { width: 1fr; }"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        tiles = list(app.query(KpiTile))
        for tile in tiles:
            words = [tile.kpi.label, tile.kpi.value, *tile.kpi.hint.split()]
            assert tile.content_region.width >= max(len(w) for w in words), tile.kpi.label
        assert len({t.region.y for t in tiles}) > 1  # two rows, not four squeezed tiles
        await pilot.resize_terminal(160, 24)
        await pilot.pause()
        await pilot.pause()
        assert len({t.region.y for t in app.query(KpiTile)}) == 1


class AgendaApp(App[None]):
    def compose(self) -> ComposeResult:
        from textual.containers import VerticalScroll
        from textual.widgets import ContentSwitcher

        from finops_tui.widgets.agenda_item import AgendaItem

        with ContentSwitcher(initial="first"):
            with VerticalScroll(id="first"):
                yield KpiStrip([Kpi("coverage", "87.2%")])
            with VerticalScroll(id="second"):
                yield AgendaItem("Preparing...", id="item")


async def test_an_agenda_item_builds_only_once_shown_and_then_every_block(home) -> None:
    from textual.widgets import ContentSwitcher, Markdown

    from finops_tui.widgets.agenda_item import AgendaItem, blocks

    # A long item: 30 teams, each a paragraph and a table of its own (61 blocks).
    parts = ["## Showback"]
    for t in range(30):
        parts += [f"Team **t{t}** spent {t * 100} USD.", "", "| service | spend |", "|---|---:|",
                  f"| EC2 | {t * 60} |", f"| S3 | {t * 40} |", ""]
    text = "\n".join(parts)
    expected = blocks(text)
    app = AgendaApp()
    async with app.run_test(size=(100, 40)) as pilot:
        item = app.query_one("#item", AgendaItem)
        item.update(text)
        await pilot.pause()
        assert item.source == text and item.built is None and not item.children  # its step is not shown
        app.query_one(ContentSwitcher).current = "second"
        for _ in range(100):
            await pilot.pause()
            if len(item.children) == len(expected) and all(t.row_count for t in item.query(FrameTable)):
                break
        kinds = ["table" if isinstance(w, FrameTable) else "text" for w in item.children]
        assert kinds == [k for k, _ in expected]
        assert all(isinstance(w, Markdown) for w in item.children if not isinstance(w, FrameTable))
        tables = list(item.query(FrameTable))
        assert [t.row_count for t in tables] == [2] * 30
        assert [t.export_name for t in tables] == [f"agenda-{i}" for i in range(1, 31)]
        # A new text replaces the old one whole, even while shown.
        item.update("Only a line.")
        for _ in range(20):
            await pilot.pause()
        assert len(item.children) == 1 and item.built == "Only a line."
