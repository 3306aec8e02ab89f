"""Folded tags per distinct Tags value: what a load joins onto its rows, and the refold after a taxonomy change.

Tags are parsed and folded once per distinct Tags value, never per row: the tag map holds each value's folded
map (``tags_norm``, kept in the store's TAG_SETS) and one column per taxonomy key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storage.schema import DATA_TABLE, TAG_SETS, create_schema, taxonomy_signature
from storage.tags import FoldReport, TagsError, folded_json, normalise, parse_tags, tag_column
from storage.text import one_line_plain

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from storage.costs import CostStore


def tag_rows(distinct: list[Any], store: CostStore, report: FoldReport) -> tuple[list[dict[str, Any]], dict]:
    rows, bad = [], {}
    keys = store.taxonomy.keys
    for raw in distinct:
        try:
            parsed = parse_tags(raw)
            # Tag keys and values are free text: control characters go (the sanitiser every renderer uses).
            clean = {one_line_plain(k): one_line_plain(v) for k, v in parsed.items()}
            if clean != parsed:
                report.stripped += 1
            norm = normalise(clean, store.taxonomy, report)
        except TagsError as exc:
            bad[raw] = str(exc)
            continue
        row: dict[str, Any] = {"Tags": raw, "tags_norm": folded_json(norm)}
        for key in keys:
            row[tag_column(key)] = norm.get(key) or None
        rows.append(row)
    return rows, bad


def tagmap_frame(rows: list[dict[str, Any]], store: CostStore) -> pd.DataFrame:
    import pandas as pd

    cols = ["Tags", "tags_norm", *[tag_column(k) for k in store.taxonomy.keys]]
    return pd.DataFrame(rows, columns=cols).astype(object)


def retag(con: duckdb.DuckDBPyConnection, store: CostStore) -> None:
    """Recompute the folded tag columns of every stored row (after the taxonomy changed)."""
    create_schema(con, store.taxonomy, tuple(tag_column(k) for k in store.taxonomy.keys))
    distinct = [r[0] for r in con.execute(f"SELECT DISTINCT Tags FROM {DATA_TABLE} "
                                          "WHERE Tags IS NOT NULL").fetchall()]
    rows, _bad = tag_rows(distinct, store, FoldReport())
    con.register("_retag", tagmap_frame(rows, store))
    sets = ", ".join(f'"{c}" = t."{c}"' for c in [tag_column(k) for k in store.taxonomy.keys])
    con.execute(f"UPDATE {DATA_TABLE} SET {sets} FROM _retag t WHERE {DATA_TABLE}.Tags = t.Tags")
    con.execute(f"DELETE FROM {TAG_SETS}")
    con.execute(f"INSERT INTO {TAG_SETS} SELECT Tags, tags_norm FROM _retag")
    con.unregister("_retag")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('taxonomy', ?)", [taxonomy_signature(store.taxonomy)])
