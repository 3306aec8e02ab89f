"""The import's progress line on a terminal: the bar and percent, the time so far, the time left at the pace
so far once a few percent are done, and the rate in rows per second at the end."""

from __future__ import annotations

from finops_tui.commands.import_ import clock_text, progress_line, rate_line


def test_the_estimate_follows_the_pace_so_far() -> None:
    line = progress_line("storing and checking", 0.25, 30.0, width=20)
    assert line.startswith("storing and checking")
    assert "[#####---------------]  25%" in line
    assert line.endswith("0:30, about 1:30 left")  # a quarter in 30 s: three quarters take 90 s more
    assert progress_line("reading x.csv (1/2)", 0.01, 30.0).endswith("0:30")  # too early to estimate
    assert progress_line("done", 1.0, 4000.0).endswith("100%  1:06:40")
    assert clock_text(59.6) == "1:00"


def test_the_rate_is_rows_over_seconds() -> None:
    assert rate_line(5_000_000, 40.0) == "5,000,000 rows in 40.0 s (125,000 rows/s)"
