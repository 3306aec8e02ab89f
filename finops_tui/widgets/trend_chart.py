"""A trend chart for the rituals' time series (daily, weekly or monthly), drawn with textual-plotext;
when plotext cannot draw, it falls back to Textual's Sparkline of the first series."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from finops_tui.widgets.safe_text import SafeStatic

Points = Sequence[tuple[date | datetime | str, float]]


def _points(series: Any) -> list[tuple[str, float]]:
    """A pandas Series indexed by date, or (date, value) pairs -> ISO day strings and floats."""
    if hasattr(series, "items") and not isinstance(series, Mapping):
        pairs = list(series.items())
    elif isinstance(series, Mapping):
        pairs = list(series.items())
    else:
        pairs = list(series)
    out = []
    for when, value in pairs:
        day = when.date() if isinstance(when, datetime) else when
        label = day.isoformat() if isinstance(day, date) else str(day)[:10]
        if value is None or value != value:
            continue
        out.append((label, float(value)))
    return sorted(out)


class TrendChart(Vertical):
    """``chart.plot({"spend": series, "forecast": other}, title="Daily spend", y_label="USD")``."""

    DEFAULT_CSS = """
    TrendChart {
        height: 12;
        min-height: 6;
    }
    TrendChart > .trend-fallback-label {
        height: 1;
        color: $text-muted;
    }
    """

    def __init__(self, title: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.series: dict[str, list[tuple[str, float]]] = {}
        self.y_label = ""
        self.using_fallback = False

    def compose(self) -> ComposeResult:
        try:
            from textual_plotext import PlotextPlot

            yield PlotextPlot(classes="trend-plot")
        except Exception:  # plotext missing or broken: a sparkline still shows the trend
            self.using_fallback = True
            yield SafeStatic(self.title, classes="trend-fallback-label", markup=False)
            yield Sparkline([], classes="trend-sparkline")

    def plot(self, series: Mapping[str, Any], title: str | None = None, y_label: str = "") -> None:
        self.series = {str(name): _points(values) for name, values in series.items()}
        if title is not None:
            self.title = title
        self.y_label = y_label
        if self.is_mounted:
            self._draw()

    def on_mount(self) -> None:
        if self.series:
            self._draw()

    def _draw(self) -> None:
        if not self.using_fallback:
            try:
                self._draw_plotext()
                return
            except Exception:
                self.using_fallback = True
                self.remove_children()
                self.mount(SafeStatic(self.title, classes="trend-fallback-label", markup=False),
                           Sparkline([], classes="trend-sparkline"))
                self.call_after_refresh(self._draw_sparkline)
                return
        self._draw_sparkline()

    def _draw_plotext(self) -> None:
        from textual_plotext import PlotextPlot

        widget = self.query_one(PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.date_form("Y-m-d")
        for name, points in self.series.items():
            if points:
                plt.plot([p[0] for p in points], [p[1] for p in points], label=name, marker="braille")
        plt.title(self.title)
        if self.y_label:
            plt.ylabel(self.y_label)
        widget.refresh()

    def _draw_sparkline(self) -> None:
        first = next(iter(self.series.values()), [])
        for label in self.query(".trend-fallback-label").results(Static):
            label.update(self.title)
        for spark in self.query(Sparkline):
            spark.data = [p[1] for p in first]
