"""The explorer's exports: its table as CSV and as lines for a terminal, every value from the data passed
through the one sanitiser (``exports.sanitize.plain``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from exports.format import money, pct
from exports.sanitize import plain
from rituals.explorer import Exploration, change_text
from storage.cost_queries import NO_VALUE

CSV_FORMULA = ("=", "+", "-", "@")


def _cell(value: Any) -> Any:
    """Text as plain text, never a spreadsheet formula (a leading = + - @ gets a quote mark)."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = plain(value, one_line=True)
        return "'" + text if text.startswith(CSV_FORMULA) else text
    return value


def explorer_csv(exploration: Exploration) -> str:
    """One line per group: the group values, cost, previous_cost, change, change_pct (empty: no previous
    spend), with the window and cost column in the header names."""
    frame = exploration.frame()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([plain(c, one_line=True) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def explorer_lines(exploration: Exploration, limit: int = 50) -> list[str]:
    """A plain-text table for the terminal: the header, up to ``limit`` rows, the total and the change."""
    e = exploration
    dims = list(e.view.group_by)
    rows = [[plain(r.values.get(d) or NO_VALUE, one_line=True) for d in dims] for r in e.rows[:limit]]
    widths = [max([len(d), *(len(r[i]) for r in rows)]) for i, d in enumerate(dims)]
    head = "  ".join(d.ljust(w) for d, w in zip(dims, widths, strict=True))
    lines = [f"Spend ({e.cost_column}) {e.start} to {e.end} (end exclusive), by {', '.join(dims)}; "
             f"previous period {e.previous_start} to {e.start}",
             f"{head}  {'cost':>14}  {'previous':>14}  {'change':>14}  {'change %':>9}"]
    for r, cells in zip(e.rows[:limit], rows, strict=False):
        label = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        lines.append(f"{label}  {r.cost:>14,.2f}  {r.previous_cost:>14,.2f}  {r.change:>+14,.2f}  "
                     f"{pct(r.change_pct):>9}")
    if len(e.rows) > limit:
        lines.append(f"... {len(e.rows) - limit} more rows (--json or --csv lists them all)")
    lines.append(f"total {money(e.total, e.currency, decimals=2)}; {change_text(e)}")
    return lines
