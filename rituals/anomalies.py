"""Anomaly detection over daily spend series: per service, per account, per team and in total.

**The baseline.** A day's expected spend is the upper median of the same weekday over the previous four
weeks (the third of four values; days before the series' first spend are ignored, so a young series uses
what it has). The upper rather than the plain median so that a dip of one or two weeks (an outage, a
holiday) does not make the recovery alarm. Why this and not a
seasonal decomposition: cloud spend is dominated by a weekly cycle (weekend idling of non-production), a
same-weekday median follows that cycle with no fitting, a single spike in the history moves it not at all
(it is a median of four), and a lasting level shift becomes the new normal by itself once it holds two
of the four samples, so a shift alarms once (its first weeks, merged into one anomaly) and then stops.
It is a few vectorised numpy operations over a series x day matrix: 150 series x 400 days take a few
milliseconds (``bench/anomaly_quality.py``).

**The noise guard.** The spread is the robust sigma (1.4826 x the median absolute deviation) of the
series' residuals against its own expected values over the previous 28 days; a day must also exceed the
expected by ``Z`` sigmas, so a series that is noisy by nature does not alarm on its usual wobble.

**The thresholds** (``[anomalies]`` in the config): a day alarms when its excess over the expected is at
least ``min_impact`` in money (default 100) and ``min_impact_pct`` percent of the expected (default 40),
the defaults of AWS Cost Anomaly Detection's own monitors, and the series has ``min_history_days`` days
(default 14) since its first spend. Only increases alarm. Consecutive alarming days merge into one
anomaly: start, end (exclusive), expected and actual spend over the window, impact = actual - expected.

**What is measured.** Usage rows (``ChargeCategory = 'Usage'``, FOCUS's definition, which includes unused
commitment) of EffectiveCost. Recurring and one-time charges (support fees, upfront fees, credits billed on
the 1st) are left out, so a month start never alarms.

**Root causes** rank the accounts, services, regions and resources of the anomaly's rows by their dollar
contribution to the excess: each one's spend in the window minus the mean of the same days 1-4 weeks
earlier (a mean rather than the median because contributions must add up to the excess).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from storage.cost_queries import ROOT_CAUSE_DIMENSIONS, anomaly_series
from storage.cost_queries import root_cause_contributions as read_root_cause_contributions
from storage.costs import CostStore

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

DIMENSIONS = ("service", "account", "team", "total")
WEEKS = 4  # same-weekday samples in the baseline
SPREAD_DAYS = 28  # days of residuals behind the noise guard
Z = 3.0
TOTAL = "total"


@dataclass(frozen=True)
class Thresholds:
    min_impact: float = 100.0
    min_impact_pct: float = 40.0
    min_history_days: int = 14
    z: float = Z

    @classmethod
    def from_config(cls, config: Any) -> Thresholds:
        a = config.anomalies
        return cls(a.min_impact, a.min_impact_pct, a.min_history_days)


@dataclass
class Detected:
    """One anomaly: consecutive alarming days of one series. ``end`` is exclusive."""

    dimension: str
    value: str
    start: date
    end: date
    expected_cost: float
    actual_cost: float
    max_daily_impact: float
    ongoing: bool = False  # runs to the last day of the data
    root_causes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def impact(self) -> float:
        return self.actual_cost - self.expected_cost

    @property
    def impact_pct(self) -> float | None:
        return self.impact / self.expected_cost * 100.0 if self.expected_cost > 0 else None

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def case_id(self) -> str:
        return case_id(self.dimension, self.value, self.start)


def case_id(dimension: str, value: str, start: date) -> str:
    """A stable id: detecting the same anomaly twice finds the same case."""
    digest = hashlib.sha1(f"{dimension}\x1f{value}\x1f{start.isoformat()}".encode()).hexdigest()
    return f"an-{start:%Y%m%d}-{digest[:8]}"


# -- the detector: pure numpy over a series x day matrix ------------------------------------------------

def baseline(matrix: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected spend (same-weekday median of the previous ``WEEKS`` weeks) and the robust sigma of the
    residuals over the previous ``SPREAD_DAYS`` days, for every series and day (NaN where unknown)."""
    import numpy as np

    n_series, n_days = matrix.shape
    day = np.arange(n_days)
    lags = np.full((WEEKS, n_series, n_days), np.nan)
    for k in range(1, WEEKS + 1):
        if 7 * k < n_days:
            lags[k - 1, :, 7 * k:] = matrix[:, :-7 * k]
        before = (day[None, :] - 7 * k) < first[:, None]
        lags[k - 1][before] = np.nan
    # The upper median (NaN sort last): with an even count the higher middle value, so a dip of a week
    # or two in the history does not make the recovery look like a jump.
    valid = (~np.isnan(lags)).sum(axis=0)
    ordered = np.sort(lags, axis=0)
    expected = np.take_along_axis(ordered, np.minimum(valid // 2, WEEKS - 1)[None], axis=0)[0]
    expected[valid == 0] = np.nan
    spread = trailing_median(np.abs(matrix - expected), SPREAD_DAYS, min_count=7) * 1.4826
    return expected, spread


def trailing_median(values: np.ndarray, days: int, min_count: int, block: int = 256) -> np.ndarray:
    """For every series (row) and day (column), the median of the known (non-NaN) values of the ``days``
    days before it, NaN where fewer than ``min_count`` are known: pandas' ``rolling(days,
    min_periods=min_count).median().shift(1)`` down each row, in numpy (the detector imports no pandas).
    Rows go ``block`` at a time, so the windows held at once stay small (block x days x ``days`` floats)."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    n_series, n_days = values.shape
    out = np.full((n_series, n_days), np.nan)
    for lo in range(0, n_series, block):
        part = values[lo:lo + block]
        padded = np.concatenate([np.full((part.shape[0], days), np.nan), part], axis=1)
        windows = sliding_window_view(padded, days, axis=1)[:, :n_days]  # window d: the days d-days .. d-1
        known = (~np.isnan(windows)).sum(axis=2)
        enough = known >= min_count
        if enough.any():
            out[lo:lo + block][enough] = np.nanmedian(windows[enough], axis=1)
    return out


def flag_days(matrix: np.ndarray, first: np.ndarray, th: Thresholds) -> tuple[np.ndarray, np.ndarray]:
    """Which days alarm (bool matrix) and the expected spend."""
    import numpy as np

    expected, spread = baseline(matrix, first)
    excess = matrix - expected
    day = np.arange(matrix.shape[1])
    with np.errstate(invalid="ignore"):
        flags = ((day[None, :] - first[:, None]) >= th.min_history_days) & ~np.isnan(expected) \
            & (excess >= th.min_impact) & (excess >= th.min_impact_pct / 100.0 * expected) \
            & ~(excess < th.z * np.nan_to_num(spread, nan=0.0))
    return flags, expected


def merge_runs(flags: np.ndarray, matrix: np.ndarray, expected: np.ndarray) -> list[tuple[int, int, int, float, float, float]]:
    """Consecutive flagged days -> (series, first day, end day exclusive, expected, actual, max daily excess)."""
    import numpy as np

    f = flags.astype(np.int8)
    edges = np.diff(np.pad(f, ((0, 0), (1, 1))), axis=1)
    s_start, d_start = np.nonzero(edges == 1)
    _s_end, d_end = np.nonzero(edges == -1)
    exp = np.where(flags, np.nan_to_num(expected), 0.0)
    act = np.where(flags, matrix, 0.0)
    cum_e = np.pad(np.cumsum(exp, axis=1), ((0, 0), (1, 0)))
    cum_a = np.pad(np.cumsum(act, axis=1), ((0, 0), (1, 0)))
    e_sum = cum_e[s_start, d_end] - cum_e[s_start, d_start]
    a_sum = cum_a[s_start, d_end] - cum_a[s_start, d_start]
    excess = np.where(flags, matrix - np.nan_to_num(expected), -np.inf)
    out = []
    for s, d0, d1, e, a in zip(s_start, d_start, d_end, e_sum, a_sum, strict=True):
        out.append((int(s), int(d0), int(d1), float(e), float(a), float(excess[s, d0:d1].max())))
    return out


def to_matrix(series: Any) -> tuple[list[tuple[str, str]], date, np.ndarray]:
    """Long columns (dimension, value, day, cost: a pandas frame or a dict of arrays, as ``load_series``
    gives them) -> series keys (sorted), the first day, and a series x day matrix with missing days as zero
    spend. numpy only."""
    import numpy as np

    dims = np.asarray(np.ma.filled(series["dimension"], "")).astype(str)
    if not len(dims):
        return [], date.min, np.zeros((0, 0))  # no series: the first day is never read
    vals = np.asarray(np.ma.filled(series["value"], "")).astype(str)
    days = np.asarray(series["day"]).astype("datetime64[D]")
    cost: np.ndarray = np.ma.filled(np.ma.asarray(series["cost"], dtype=float), np.nan)
    first_day = days.min()
    col = (days - first_day).astype(np.int64)
    n_days = int(col.max()) + 1
    dim_names, dim_codes = np.unique(dims, return_inverse=True)
    val_names, val_codes = np.unique(vals, return_inverse=True)
    pairs, codes = np.unique(dim_codes.astype(np.int64) * len(val_names) + val_codes, return_inverse=True)
    keys = [(str(dim_names[p // len(val_names)]), str(val_names[p % len(val_names)])) for p in pairs]
    matrix = np.zeros((len(keys), n_days))
    np.add.at(matrix, (codes.reshape(-1), col), cost)
    return keys, first_day.item(), matrix


def detect(series: Any, th: Thresholds | None = None) -> list[Detected]:
    """Anomalies in long columns of daily spend (dimension, value, day, cost: a pandas frame or
    ``load_series(..., arrays=True)``), largest impact first."""
    import numpy as np

    th = th or Thresholds()
    keys, first_day, matrix = to_matrix(series)
    if not keys:
        return []
    nonzero = matrix != 0
    first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), matrix.shape[1])
    flags, expected = flag_days(matrix, first, th)
    n_days = matrix.shape[1]
    found = []
    for s, d0, d1, e, a, peak in merge_runs(flags, matrix, expected):
        dim, value = keys[s]
        found.append(Detected(dim, value, first_day + timedelta(days=d0), first_day + timedelta(days=d1),
                              round(e, 2), round(a, 2), round(peak, 2), ongoing=d1 == n_days))
    return sorted(found, key=lambda x: (-x.impact, x.start, x.dimension, x.value))


# -- root causes: pure pandas over the anomaly's rows ---------------------------------------------------

def routed_team(root_causes: list[dict[str, Any]], dimension: str, value: str,
                account_teams: dict[str, str]) -> str | None:
    """The owning team: the allocation of the top resource root cause, else the team of the top account
    root cause (its allocation, else the account's team from the records), else the series' own team or
    account team."""
    for dim in ("resource", "account"):
        for cause in root_causes:
            if cause["dimension"] != dim:
                continue
            team = cause.get("team") or (account_teams.get(cause["value"]) if dim == "account" else None)
            if team:
                return team
            break
    if dimension == "team":
        return value
    if dimension == "account":
        return account_teams.get(value)
    return None


# -- reading the cost store -----------------------------------------------------------------------------

def load_series(store: CostStore, account_teams: dict[str, str],
                only: tuple[str, str] | None = None, *, arrays: bool = False) -> Any:
    """Daily spend per service, account, team and in total (columns dimension, value, day, cost), a pandas
    frame or, with ``arrays``, a dict of numpy arrays (what ``detect`` reads); ``only`` (dimension, value)
    reads that one series."""
    return anomaly_series(store, account_teams, only, total_value=TOTAL, arrays=arrays)


def attach_root_causes(store: CostStore, account_teams: dict[str, str], anomalies: list[Detected],
                       top: int = 3) -> None:
    """Fill ``root_causes`` of each anomaly: the accounts, services, regions and resources ranked by their
    contribution to the excess over ``start <= day < end`` (spend in the window minus the mean of the same
    days 1-4 weeks earlier), ``top`` per dimension, positive contributions only, largest first. A resource or
    account entry carries the team its in-window spend is allocated to most. One store query for all of
    them (``storage.cost_queries.root_cause_contributions``)."""
    rows = read_root_cause_contributions(store, account_teams,
                                         [(a.dimension, a.value, a.start, a.end) for a in anomalies], WEEKS, top)
    causes: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(anomalies))}
    order: dict[int, list[tuple[float, int]]] = {i: [] for i in range(len(anomalies))}
    for r in rows:
        total = float(r.total)
        # Largest first; equal contributions (one resource is its own region's excess) in dimension order.
        order[int(r.case)].append((-round(float(r.contribution), 6), ROOT_CAUSE_DIMENSIONS.index(r.dimension)))
        causes[int(r.case)].append({
            "dimension": r.dimension, "value": str(r.value), "contribution": round(float(r.contribution), 2),
            "share_pct": round(float(r.contribution) / total * 100.0, 1) if total > 0 else None,
            "team": r.team if isinstance(r.team, str) else None})
    for i, a in enumerate(anomalies):
        ranked = sorted(zip(order[i], range(len(causes[i])), causes[i], strict=True), key=lambda t: (t[0], t[1]))
        a.root_causes = [c for _key, _n, c in ranked]


def detect_in_store(store: CostStore, account_teams: dict[str, str], th: Thresholds,
                    with_root_causes: bool = True) -> list[Detected]:
    """Detect over the store's full history, with ranked root causes for each anomaly."""
    found = detect(load_series(store, account_teams, arrays=True), th)
    if with_root_causes and found:
        attach_root_causes(store, account_teams, found)
    return found


def series_frame(store: CostStore, account_teams: dict[str, str], dimension: str, value: str,
                 th: Thresholds | None = None) -> pd.DataFrame:
    """One series with its expected band, for a chart: day, cost, expected, upper (the alarm line)."""
    import numpy as np
    import pandas as pd

    th = th or Thresholds()
    frame = load_series(store, account_teams, (dimension, value))
    keys, first_day, matrix = to_matrix(frame)
    if not keys:
        return pd.DataFrame({"day": [], "cost": [], "expected": [], "upper": []})
    nonzero = matrix != 0
    first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), matrix.shape[1])
    expected, _spread = baseline(matrix, first)
    upper = expected + np.maximum(th.min_impact, th.min_impact_pct / 100.0 * expected)
    days = pd.date_range(first_day, periods=matrix.shape[1], freq="D")
    return pd.DataFrame({"day": days.date, "cost": matrix[0], "expected": expected[0], "upper": upper[0]})
