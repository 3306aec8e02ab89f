"""The import's progress line on a terminal: the bar and percent, the time so far, the time left at the pace
so far once a few percent are done, and the rate in rows per second at the end."""

from __future__ import annotations

import pytest

from finops_tui.commands.import_ import clock_text, progress_line, rate_line
from storage.loader import PHASES_FOLD_AFTER


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


def test_an_import_reports_its_phases_in_order_each_inside_its_span(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A CSV import read in one pass hears every phase in order, the bar never goes back, and no report is
    past the end of the phase it names (DuckDB's own progress of the store pass reads 97% from its start)."""
    from storage.config import load_config
    from storage.costs import CostStore
    from storage.sources import files
    from tests.unit.test_allocated_tags import generated

    data = tmp_path / "focus13.csv"
    generated(data, 400)
    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    seen: list[tuple[str, float]] = []
    files.import_files(store, [data], progress=lambda label, fraction: seen.append((label, fraction)))
    labels = list(dict.fromkeys(label for label, _f in seen))
    # Read by the store pass alone, the file's tags are folded from the rows it wrote.
    assert labels == [f"reading {data.name} (1/1)", "validating", "storing", "normalising tags", "checking",
                      "summing the daily rollup", "done"]
    assert labels[1:-1] == list(PHASES_FOLD_AFTER)
    fractions = [f for _l, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    read = files.READ_SHARES["one-pass csv"]
    ends = {f"reading {data.name} (1/1)": read} | {name: hi for name, (_lo, hi) in files.phase_spans(read, PHASES_FOLD_AFTER).items()}
    for label, fraction in seen:
        if label != "done":
            assert fraction <= ends[label] + 1e-9, (label, fraction, ends[label])


def test_a_phase_of_known_length_moves_with_the_time_spent_and_stops_short_of_its_end() -> None:
    import time

    import duckdb

    from storage.sources.files import _Progress

    seen: list[tuple[str, float]] = []
    con = duckdb.connect()
    bar = _Progress(con, lambda label, fraction: seen.append((label, fraction)))
    try:
        bar.phase("storing", 0.2, 0.8, expected=1.0)
        time.sleep(0.6)
        midway = seen[-1][1]
        time.sleep(0.9)
        late = seen[-1][1]
        bar.phase("checking", 0.8, 0.85)
    finally:
        bar.close()
        con.close()
    assert 0.2 < midway < 0.2 + 0.6 * 0.8  # about 0.6 s of an expected 1 s
    assert late == pytest.approx(0.2 + 0.6 * 0.97)  # past its expected length: held short of the span's end
    assert seen[-1] == ("checking", 0.8)
    assert bar.durations["storing"] >= 1.4


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_the_line_fits_the_terminal_and_shows_no_control_characters(columns: int) -> None:
    label = "reading \x1b[31mfocus_2026-10_a-rather-long-export-name.csv\x07 (1/3)"
    for fraction in (0.0, 0.01, 0.25, 0.5, 0.99, 1.0):
        line = progress_line(label, fraction, 754.0, columns=columns)
        assert len(line) <= columns - 1, line
        assert "\x1b" not in line and "\x07" not in line
        assert f"{fraction * 100:3.0f}%" in line or columns < 60
    assert progress_line("storing", 0.5, 60.0, columns=80).endswith("1:00, about 1:00 left")


def test_a_parquet_import_folds_its_tags_before_it_stores_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Parquet file's tag-set keys are tallied as it is staged (only its tag columns are read), so its tags
    are normalised before the store pass, which joins them on; the bar still never goes back."""
    import duckdb

    from storage.config import load_config
    from storage.costs import CostStore
    from storage.loader import PHASES
    from storage.sources import files
    from tests.unit.test_allocated_tags import generated

    csv_file, data = tmp_path / "focus13.csv", tmp_path / "focus13.parquet"
    generated(csv_file, 200)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{csv_file}', all_varchar = true)) TO '{data}' (FORMAT parquet)")
    con.close()
    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    seen: list[tuple[str, float]] = []
    result = files.import_files(store, [data], progress=lambda label, fraction: seen.append((label, fraction)))
    labels = list(dict.fromkeys(label for label, _f in seen))
    assert labels[1:-1] == list(PHASES) and labels[-1] == "done"
    fractions = [f for _l, f in seen]
    assert fractions == sorted(fractions)
    assert [f.rows for f in result.files] == [200]
    with duckdb.connect(str(store.path), read_only=True) as check:
        tagged = check.execute("SELECT count(*) FROM line_items WHERE tag_team IS NOT NULL").fetchone()[0]
    assert tagged > 0
