"""The showback screen: per team, direct + shared = total for a month, as a table (e exports it to CSV)
and a bar chart. ``ShowbackPanel`` holds the content so the monthly review can use it as a step."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from exports.format import money, pct
from finops_tui.screens.month_panel import MonthPanelScreen
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from rituals.showback import basis_words

LABELS = {"team": "Team", "direct": "Direct", "shared": "Shared", "total": "Total", "share_pct": "Share"}
BAR_WIDTH = 40


def bar_chart(showback: Any, width: int = BAR_WIDTH) -> Text:
    """One line per team: its direct spend solid, its share of shared costs shaded (names stay plain text)."""
    text = safe_text()
    top = max((max(t.total, 0.0) for t in showback.teams), default=0.0)
    name_w = max((len(t.team) for t in showback.teams), default=4)
    for t in showback.teams:
        direct = max(t.direct, 0.0)
        shared = max(t.total - direct, 0.0)
        d = round(direct / top * width) if top else 0
        s = round(shared / top * width) if top else 0
        text.append(t.team.ljust(name_w + 1))
        text.append("█" * d, style="bold")
        text.append("▒" * s, style="dim")
        text.append(f" {money(t.total, decimals=0)}\n")
    text.append("█ direct  ▒ shared", style="dim")
    return text


class ShowbackPanel(Vertical):
    """The month's showback: a header line, the team table and the bar chart, loaded in a worker."""

    DEFAULT_CSS = """
    ShowbackPanel { height: auto; }
    ShowbackPanel .showback-line { height: auto; color: $text-muted; }
    ShowbackPanel FrameTable { height: auto; max-height: 14; }
    ShowbackPanel #showback-chart { height: auto; margin-top: 1; }
    """

    def __init__(self, home: Any, month: date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from rituals.showback import last_complete_month

        self.home = home
        self.month = month or last_complete_month(home.clock.today())
        self.showback: Any = None  # rituals.showback.Showback once loaded

    def compose(self) -> ComposeResult:
        yield SafeStatic("loading…", id="showback-summary", classes="showback-line", markup=False)
        yield FrameTable(id="showback-table", export_name=f"showback-{self.month:%Y-%m}")
        yield SafeStatic("", id="showback-chart", markup=False)

    def on_mount(self) -> None:
        self.load()

    def load(self, month: date | None = None) -> None:
        if month is not None:
            self.month = month
            self.query_one(FrameTable).export_name = f"showback-{self.month:%Y-%m}"
        self.query_one("#showback-summary", Static).update(f"Loading {self.month:%Y-%m}…")
        self._load()

    @work(thread=True, exclusive=True, group="showback")
    def _load(self) -> None:
        from rituals.showback import showback

        try:
            result = showback(self.home, self.month)
        except (ValueError, RuntimeError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._show, result)

    def _failed(self, message: str) -> None:
        self.query_one("#showback-summary", Static).update(safe_text(message))

    def _show(self, sb: Any) -> None:
        self.showback = sb
        cur = sb.currency
        self.query_one("#showback-summary", Static).update(safe_text(
            f"{sb.month}: {money(sb.total, cur, decimals=2)} spend (EffectiveCost, by charge period), billed "
            f"{money(sb.billed_total, cur, decimals=2)} ({basis_words(sb.billed_basis)}); "
            f"{money(sb.shared_total, cur, decimals=2)} shared, "
            f"split {sb.method}"))
        fmt = {"direct": lambda v: money(v, decimals=2), "shared": lambda v: money(v, decimals=2),
               "total": lambda v: money(v, decimals=2), "share_pct": pct}
        self.query_one(FrameTable).load_frame(sb.frame(), fmt, LABELS)
        self.query_one("#showback-chart", Static).update(bar_chart(sb))


class ShowbackScreen(MonthPanelScreen):
    PANEL = ShowbackPanel
    VALUE_KIND = "budget"
    BINDINGS = [*MonthPanelScreen.BINDINGS, Binding("t", "type_value", "Type a budget", id="type-value")]
