"""A row of labelled KPI values. Values are shown as Text, never markup (a value may be `[USD]`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.widgets import Static

from finops_tui.widgets.safe_text import safe_text

TILE_FRAME = 4  # a tile's border and padding, left and right
STATUS_STYLES = {"good": "bold green", "warn": "bold yellow", "bad": "bold red", None: "bold"}


@dataclass(frozen=True)
class Kpi:
    """One figure: ``status`` is ``good``, ``warn``, ``bad`` or None (neutral)."""

    label: str
    value: str
    status: str | None = None
    hint: str = ""


class KpiTile(Static):
    DEFAULT_CSS = """
    KpiTile {
        width: 1fr;
        height: auto;
        min-height: 3;
        padding: 0 1;
        border: round $primary-background;
    }
    """

    def __init__(self, kpi: Kpi, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.kpi = kpi

    def render(self) -> Text:
        kpi = self.kpi
        text = safe_text(kpi.label, style="dim")
        text.append("\n")
        text.append(safe_text(kpi.value, style=STATUS_STYLES.get(kpi.status, "bold")))
        if kpi.hint:
            text.append("\n")
            text.append(safe_text(kpi.hint, style="dim italic"))
        return text

    def show(self, kpi: Kpi) -> None:
        self.kpi = kpi
        self.refresh(layout=True)


class KpiStrip(Container):
    """``KpiStrip([Kpi("allocation, 7 days", "87.2%", "warn"), ...])``; ``set_kpis`` replaces them.

    The tiles sit in one row when they fit without breaking a word, else in as many columns as do fit
    (at 80 x 24 a label like "Utilisation" would otherwise wrap inside its word)."""

    DEFAULT_CSS = """
    KpiStrip {
        layout: grid;
        grid-size: 4;
        grid-rows: auto;
        height: auto;
    }
    KpiStrip > KpiTile { width: 1fr; }
    """

    def __init__(self, kpis: Iterable[Kpi] = (), **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._kpis = list(kpis)

    def compose(self) -> ComposeResult:
        for kpi in self._kpis:
            yield KpiTile(kpi)

    def columns_for(self, width: int) -> int:
        """How many tiles fit side by side in ``width`` cells without a label or value broken."""
        if not self._kpis:
            return 1
        need = max(max(len(k.label), len(k.value), *(len(w) for w in k.hint.split()), 1) for k in self._kpis)
        need += TILE_FRAME
        return max(1, min(len(self._kpis), width // need))

    def _fit(self) -> None:
        columns = self.columns_for(self.size.width)
        if self.styles.grid_size_columns != columns:
            self.styles.grid_size_columns = columns

    def on_resize(self) -> None:
        self._fit()

    def set_kpis(self, kpis: Iterable[Kpi]) -> None:
        new = list(kpis)
        tiles = list(self.query(KpiTile))
        if [t.kpi.label for t in tiles] == [k.label for k in new]:
            for tile, kpi in zip(tiles, new, strict=True):
                tile.show(kpi)
        else:
            self.remove_children()
            self.mount_all([KpiTile(k) for k in new])
        self._kpis = new
        self._fit()

    @property
    def kpis(self) -> list[Kpi]:
        return list(self._kpis)
