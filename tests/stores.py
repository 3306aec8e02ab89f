"""What tests compare stores by: every base table's rows, independent of how the file is laid out."""

from __future__ import annotations

from pathlib import Path

import duckdb


def cost_fingerprint(path: Path) -> dict[str, tuple[int, str | None]]:
    """Per base table of the DuckDB file: (rows, md5 of its rows as text in sorted order), and the line_items
    view's column list."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        out: dict[str, tuple[int, str | None]] = {}
        for name in names:
            out[name] = con.execute(f'SELECT count(*), md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY '
                                    f'CAST(t AS VARCHAR))) FROM "{name}" t').fetchone()
        cols = [r[0] for r in con.execute("DESCRIBE line_items").fetchall()]
        out["line_items view"] = (len(cols), ",".join(cols))
        return out
    finally:
        con.close()
