"""The spend explorer: a view (group-by, filters, window, granularity, cost column) -> the spend it shows,
with totals and the change against the period of equal length just before, and the drill-down path.

The figures come from one named query (``storage.cost_queries.explorer_costs``); the explorer screen, the
``finops-tui explore`` command and its CSV all read ``Exploration`` built here.

Windows (start inclusive, end exclusive, in days; "today" is never complete and is left out): last 7, 30 or
90 days end at today; month to date runs from the month's first day to today (on the 1st, the whole day
so far is still excluded: the window is the 1st alone); last month is the previous calendar month; last 3,
6 or 12 months are whole calendar months ending with the previous one. The previous period is the same
number of days just before the window (for whole calendar months, preset or custom, the same number of
months before).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rituals.calendar import add_months
from storage.config import EXPLORER_COSTS, ExplorerView, Filters, filter_text
from storage.cost_queries import NO_VALUE, explorer_costs

if TYPE_CHECKING:
    import pandas as pd

    from storage.home import Home

PRESET_LABELS = {
    "last_7_days": "Last 7 days", "last_30_days": "Last 30 days", "last_90_days": "Last 90 days",
    "month_to_date": "Month to date", "last_month": "Last month", "last_3_months": "Last 3 months",
    "last_6_months": "Last 6 months", "last_12_months": "Last 12 months", "custom": "Custom",
}
DRILL_ORDER = ("team", "service", "resource")
_DAYS = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90}
_MONTHS = {"last_month": 1, "last_3_months": 3, "last_6_months": 6, "last_12_months": 12}


# -- windows ----------------------------------------------------------------------------------------------
def view_window(view: ExplorerView, today: date) -> tuple[date, date, date]:
    """(previous_start, start, end) of a view on ``today``: the window and the period of equal length
    before it."""
    if view.preset == "custom":
        if view.start is None or view.end is None:
            raise ValueError("a custom window needs both start and end")
        start, end = view.start, view.end
        if start.day == 1 and end.day == 1:  # whole months: compared with as many whole months before
            months = (end.year - start.year) * 12 + end.month - start.month
            return add_months(start, -months), start, end
        return start - (end - start), start, end
    if view.preset in _DAYS:
        days = _DAYS[view.preset]
        return today - timedelta(days=2 * days), today - timedelta(days=days), today
    if view.preset in _MONTHS:
        months = _MONTHS[view.preset]
        end = today.replace(day=1)
        start = add_months(end, -months)
        return add_months(start, -months), start, end
    if view.preset == "month_to_date":
        start = today.replace(day=1)
        end = max(today, start + timedelta(days=1))
        return start - (end - start), start, end
    raise ValueError(f"unknown window preset {view.preset!r}")


# -- drill-down -------------------------------------------------------------------------------------------
def next_dimension(dimension: str) -> str | None:
    """Team -> service -> resource; any other dimension drills into services; a resource is the finest."""
    if dimension == "resource":
        return None
    if dimension in DRILL_ORDER:
        return DRILL_ORDER[DRILL_ORDER.index(dimension) + 1]
    return "service"


def _with_filter(filters: Filters, dimension: str, value: str) -> Filters:
    kept = [(d, v) for d, v in filters if d != dimension]
    return (*kept, (dimension, (value,)))


def drill_down(view: ExplorerView, values: dict[str, str | None]) -> ExplorerView:
    """The view one level down from a row: each of the row's group values becomes a filter (a missing
    value filters on ``(none)``) and the view groups by the dimension after its last one. A ValueError when
    the view already groups by resource."""
    following = next_dimension(view.group_by[-1])
    if following is None:
        raise ValueError("resources are the finest level: there is nothing to drill into")
    filters = view.filters
    for dim in view.group_by:
        filters = _with_filter(filters, dim, values.get(dim) or NO_VALUE)
    excludes = tuple((d, v) for d, v in view.excludes if d not in view.group_by)
    return replace(view, group_by=(following,), filters=filters, excludes=excludes)


# -- the filter line of the screen ------------------------------------------------------------------------
def parse_filter_line(text: str, taxonomy: Any) -> tuple[Filters, Filters]:
    """``team=web,data; !service=Tax`` -> (filters, excludes): clauses split on ';', a leading '!' or '-'
    excludes. Values may hold spaces (service names do)."""
    from storage.config import merge_filters, parse_filter

    include: list[tuple[str, tuple[str, ...]]] = []
    exclude: list[tuple[str, tuple[str, ...]]] = []
    for clause in (c.strip() for c in text.split(";")):
        if not clause:
            continue
        if clause[0] in "!-":
            exclude.append(parse_filter(clause[1:], taxonomy))
        else:
            include.append(parse_filter(clause, taxonomy))
    return merge_filters(include), merge_filters(exclude)


def filter_line(view: ExplorerView) -> str:
    """The view's filters as the screen's filter line (``parse_filter_line`` reads it back)."""
    parts = [filter_text(d, v) for d, v in view.filters] + ["!" + filter_text(d, v) for d, v in view.excludes]
    return "; ".join(parts)


# -- what each ritual shows -------------------------------------------------------------------------------
def ritual_view(kind: str, window: tuple[date, date], *, charge_categories: tuple[str, ...] = ("Usage",),
                case: dict[str, Any] | None = None) -> ExplorerView:
    """The explorer view of what a ritual screen shows: its window, grouped and filtered as it looks at
    spend. The tag sweep: allocation by team over the charge categories it counts (``(none)`` is the
    unallocated spend); anomaly triage: the highlighted case's dimension and value over the case's days,
    one level down; the monthly and quarterly reviews: spend by team; the commitment review: usage by
    service."""
    from rituals.definitions import anomaly_triage, commitment_review, quarterly_review, tag_sweep

    start, end = window
    custom = ExplorerView(preset="custom", start=start, end=end)
    if kind == tag_sweep.KIND:
        return replace(custom, group_by=("team",), filters=(("charge_category", tuple(charge_categories)),))
    if kind == anomaly_triage.KIND:
        if case is not None and case.get("dimension") in ("account", "service", "team", "region"):
            dim = str(case["dimension"])
            return ExplorerView(group_by=(next_dimension(dim) or "service",),
                                filters=((dim, (str(case["value"]),)),), preset="custom",
                                start=case["start"], end=case["end"])
        return replace(custom, group_by=("service",))
    if kind == commitment_review.KIND:
        return replace(custom, group_by=("service",), filters=(("charge_category", ("Usage",)),))
    if kind == quarterly_review.KIND:
        return replace(custom, group_by=("team",), granularity="month")
    return replace(custom, group_by=("team",))


# -- the exploration --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExplorerRow:
    values: dict[str, str | None]
    cost: float
    previous_cost: float

    @property
    def change(self) -> float:
        return self.cost - self.previous_cost

    @property
    def change_pct(self) -> float | None:
        return change_pct(self.cost, self.previous_cost)


def change_pct(now: float, before: float) -> float | None:
    """The change as a percentage of the previous period; None when it had no spend."""
    return round((now - before) / abs(before) * 100.0, 2) if round(before, 2) else None


def group_label(values: dict[str, str | None], dims: tuple[str, ...]) -> str:
    return " / ".join(values.get(d) or NO_VALUE for d in dims)


@dataclass(frozen=True)
class Exploration:
    view: ExplorerView
    start: date
    end: date
    previous_start: date
    currency: str
    rows: tuple[ExplorerRow, ...]
    series: Any  # pandas frame: period, label, cost (the current window only)

    @property
    def cost_column(self) -> str:
        return EXPLORER_COSTS[self.view.cost]

    @property
    def total(self) -> float:
        return round(float(sum(r.cost for r in self.rows)), 2)

    @property
    def previous_total(self) -> float:
        return round(float(sum(r.previous_cost for r in self.rows)), 2)

    @property
    def change(self) -> float:
        return round(self.total - self.previous_total, 2)

    @property
    def change_pct(self) -> float | None:
        return change_pct(self.total, self.previous_total)

    def period_totals(self) -> list[dict[str, Any]]:
        if self.series is None or self.series.empty:
            return []
        sums = self.series.groupby("period", sort=True)["cost"].sum()
        return [{"period": p, "cost": round(float(c), 2)} for p, c in sums.items()]

    def as_json(self) -> dict[str, Any]:
        v = self.view
        return {
            "start": self.start, "end": self.end, "preset": v.preset, "granularity": v.granularity,
            "cost_column": self.cost_column, "group_by": list(v.group_by),
            "filters": [filter_text(d, vals) for d, vals in v.filters],
            "excludes": [filter_text(d, vals) for d, vals in v.excludes],
            "currency": self.currency, "total": self.total,
            "previous": {"start": self.previous_start, "end": self.start, "total": self.previous_total},
            "change": self.change, "change_pct": self.change_pct,
            "rows": [{**r.values, "cost": round(r.cost, 2), "previous_cost": round(r.previous_cost, 2),
                      "change": round(r.change, 2), "change_pct": r.change_pct} for r in self.rows],
            "periods": self.period_totals(),
        }

    def frame(self) -> pd.DataFrame:
        """The table: one column per group dimension, then cost, previous_cost, change, change_pct."""
        import pandas as pd

        dims = list(self.view.group_by)
        columns: dict[str, Any] = {d: pd.Series([r.values.get(d) for r in self.rows], dtype=object) for d in dims}
        columns |= {"cost": [round(r.cost, 2) for r in self.rows],
                    "previous_cost": [round(r.previous_cost, 2) for r in self.rows],
                    "change": [round(r.change, 2) for r in self.rows],
                    "change_pct": pd.Series([r.change_pct for r in self.rows], dtype=object)}
        return pd.DataFrame(columns, columns=[*dims, "cost", "previous_cost", "change", "change_pct"])

    def chart_series(self, top: int = 5) -> dict[str, list[tuple[date, float]]]:
        """The largest ``top`` groups of the window as series (one point per period), the rest as 'other'."""
        if self.series is None or self.series.empty:
            return {}
        periods = sorted(set(self.series["period"]))
        labels = [group_label(r.values, self.view.group_by) for r in self.rows if r.cost]
        keep = labels[:top]
        out: dict[str, dict[date, float]] = {lab: dict.fromkeys(periods, 0.0) for lab in keep}
        for period, label, cost in self.series[["period", "label", "cost"]].itertuples(index=False, name=None):
            name = label if label in out else "other"
            out.setdefault(name, dict.fromkeys(periods, 0.0))
            out[name][period] += float(cost)
        return {name: sorted(points.items()) for name, points in out.items()}


def explore(home: Home, view: ExplorerView, account_teams: dict[str, str] | None = None) -> Exploration:
    """The spend a view shows on the home's today (slow: DuckDB; call from a worker)."""
    from rituals.allocation import account_teams_from_records

    teams = account_teams if account_teams is not None else account_teams_from_records(home.records)
    previous_start, start, end = view_window(view, home.clock.today())
    frame = explorer_costs(home.costs, teams, start, end, group_by=view.group_by, filters=view.filters,
                           excludes=view.excludes, cost=view.cost, granularity=view.granularity,
                           previous_start=previous_start)
    currency = frame.attrs.get("currency") or home.config.currency
    return exploration_from_frame(view, frame, start, end, previous_start, currency)


def _value(v: Any) -> str | None:
    return None if v is None or v != v else str(v)


def exploration_from_frame(view: ExplorerView, frame: pd.DataFrame, start: date, end: date,
                           previous_start: date, currency: str) -> Exploration:
    dims = list(view.group_by)
    now: dict[tuple[str | None, ...], float] = {}
    before: dict[tuple[str | None, ...], float] = {}
    for row in frame[["window", *dims, "cost"]].itertuples(index=False, name=None):
        key = tuple(_value(v) for v in row[1:-1])
        target = now if row[0] == "current" else before
        target[key] = target.get(key, 0.0) + float(row[-1])
    keys = list(dict.fromkeys([*now, *before]))
    # Largest spend first; ties by the group values, missing values last, so the order is stable.
    keys.sort(key=lambda k: (-round(now.get(k, 0.0), 2), -round(before.get(k, 0.0), 2),
                             tuple((v is None, v or "") for v in k)))
    rows = tuple(ExplorerRow(dict(zip(dims, k, strict=True)), now.get(k, 0.0), before.get(k, 0.0)) for k in keys)
    current = frame[frame["window"] == "current"].copy()
    current["label"] = [group_label(dict(zip(dims, map(_value, k), strict=True)), view.group_by)
                        for k in current[dims].itertuples(index=False, name=None)]
    return Exploration(view, start, end, previous_start, currency, rows, current[["period", "label", "cost"]])


def change_text(e: Exploration) -> str:
    """The change against the previous period as one phrase (the screen's summary and the CLI's last line)."""
    pct_text = f" ({e.change_pct:+.1f}%)" if e.change_pct is not None else ""
    return (f"previous period {e.previous_total:,.2f} {e.currency}, change {e.change:+,.2f} {e.currency}"
            f"{pct_text}")
