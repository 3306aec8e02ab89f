"""The unit-economics screen: cost per business output with its 6-month trend, rising unit costs flagged.
``UnitEconomicsPanel`` holds the content so the monthly review can use it as a step."""

from __future__ import annotations

from datetime import date
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from finops_tui.screens.month_panel import MonthPanelScreen
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from finops_tui.widgets.trend_chart import TrendChart

LABELS = {"metric": "Metric", "spend_of": "Spend of", "unit_cost": "Unit cost", "volume": "Volume",
          "unit_cost_trend_pct": "Unit cost /month", "volume_trend_pct": "Volume /month",
          "rising_unit_cost": "Rising"}


def metrics_frame(ue: Any) -> Any:
    import pandas as pd

    rows = []
    for m in ue.metrics:
        per = "" if m.per == 1 else f" per {m.per:,.0f}"
        rows.append({"metric": m.metric + per, "spend_of": m.spend_of, "unit_cost": m.latest.unit_cost,
                     "volume": m.latest.volume, "unit_cost_trend_pct": m.unit_cost_trend_pct,
                     "volume_trend_pct": m.volume_trend_pct, "rising_unit_cost": "RISING" if m.rising else ""})
    return pd.DataFrame(rows, columns=list(LABELS))


def _signed_pct(value: Any) -> str:
    return "-" if value is None or value != value else f"{value:+.1f}%"


def _unit(value: Any) -> str:
    return "no data" if value is None or value != value else f"{value:,.4f}"


class UnitEconomicsPanel(Vertical):
    """The month's unit costs: a flag line, the metrics table and a unit-cost index chart."""

    DEFAULT_CSS = """
    UnitEconomicsPanel { height: auto; }
    UnitEconomicsPanel .ue-line { height: auto; color: $text-muted; }
    UnitEconomicsPanel #ue-flags { height: auto; }
    UnitEconomicsPanel FrameTable { height: auto; max-height: 10; }
    """

    def __init__(self, home: Any, month: date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from rituals.showback import last_complete_month

        self.home = home
        self.month = month or last_complete_month(home.clock.today())
        self.result: Any = None  # rituals.unit_economics.UnitEconomics once loaded

    def compose(self) -> ComposeResult:
        yield SafeStatic("loading…", id="ue-summary", classes="ue-line", markup=False)
        yield SafeStatic("", id="ue-flags", markup=False)
        yield FrameTable(id="ue-table", export_name=f"unit-costs-{self.month:%Y-%m}")
        yield TrendChart("Unit cost index (first month = 100)", id="ue-chart")

    def on_mount(self) -> None:
        self.load()

    def load(self, month: date | None = None) -> None:
        if month is not None:
            self.month = month
        self._load()

    @work(thread=True, exclusive=True, group="unit-economics")
    def _load(self) -> None:
        from rituals.unit_economics import unit_economics

        try:
            result = unit_economics(self.home, self.month)
        except (ValueError, RuntimeError) as exc:
            self.app.call_from_thread(self.query_one("#ue-summary", Static).update, safe_text(str(exc)))
            return
        self.app.call_from_thread(self._show, result)

    def _show(self, ue: Any) -> None:
        self.result = ue
        summary = f"{ue.month}, 6-month trend; costs in {ue.currency}"
        if not ue.metrics:
            summary += ": no business metrics (finops-tui metrics import FILE.csv)"
        self.query_one("#ue-summary", Static).update(safe_text(summary))
        flags = safe_text()
        for m in ue.metrics:
            if m.rising:
                flags.append("▲ ", style="bold red")
                flags.append(f"{m.metric}: unit cost {_signed_pct(m.unit_cost_trend_pct)} a month while volume "
                             f"grows {_signed_pct(m.volume_trend_pct)} a month\n")
        self.query_one("#ue-flags", Static).update(flags)
        self.query_one(FrameTable).load_frame(metrics_frame(ue), {
            "unit_cost": _unit, "volume": lambda v: "-" if v is None or v != v else f"{v:,.0f}",
            "unit_cost_trend_pct": _signed_pct, "volume_trend_pct": _signed_pct}, LABELS)
        series = {}
        for m in ue.metrics:
            base = next((p.unit_cost for p in m.trend if p.unit_cost), None)
            if base:
                series[m.metric] = [(date.fromisoformat(p.month + "-01"), p.unit_cost / base * 100)
                                    for p in m.trend if p.unit_cost is not None]
        self.query_one(TrendChart).plot(series, y_label="index")


class UnitEconomicsScreen(MonthPanelScreen):
    PANEL = UnitEconomicsPanel
    VALUE_KIND = "metric"
    BINDINGS = [*MonthPanelScreen.BINDINGS, Binding("t", "type_value", "Type a metric", id="type-value")]
