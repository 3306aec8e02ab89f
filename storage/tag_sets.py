"""Folded tags per distinct Tags value: what a load joins onto its rows, and the refold after a taxonomy change.

Tags are parsed and folded once per distinct Tags value, never per row: the tag map holds each value's folded
map (``tags_norm``, kept in the store's TAG_SETS) and one column per taxonomy key.

**AllocatedTags** (FOCUS 1.3) count for allocation like Tags. On a charge a provider split (its split cost
allocation: AllocatedMethodId, AllocatedResourceId, ...), FOCUS keeps the dimensions, Tags included, as on
the origin charge (the shared resource, e.g. the cluster node), and puts the tags of what the split went to
(the workload, namespace, pod) in AllocatedTags. So a row's tags for allocation are its Tags overlaid with
its AllocatedTags, both folded the same way: **a key in both takes the AllocatedTags value** (the consumer's
team, not the shared resource's); a key only in Tags keeps its Tags value. A row whose AllocatedTags is
empty is folded from its Tags alone. The tag set of such a row is keyed by ``tag_set_key`` (its Tags and
AllocatedTags together) in TAG_SETS and the tag columns, so every query (sweep coverage, showback, the
explorer) reads the overlaid tags without knowing about them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from storage.schema import DATA_TABLE, TAG_SETS, create_schema, stored_columns, taxonomy_signature
from storage.tags import FoldReport, TagsError, folded_json, normalise, parse_tags, tag_column
from storage.text import one_line_plain

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from storage.costs import CostStore


ALLOCATED_PREFIX = "allocated:"  # a valid Tags value is a JSON object, so it never starts so


def tag_set_key(table: str = "", *, allocated: bool = True) -> str:
    """SQL of a row's tag-set key (TAG_SETS.raw_tags): its Tags, or, where AllocatedTags has a value, both as
    ``allocated:{"t": Tags, "a": AllocatedTags}``. ``allocated=False`` for a table without AllocatedTags."""
    pre = f"{table}." if table else ""
    if not allocated:
        return f"{pre}Tags"
    alloc = f"{pre}AllocatedTags"
    return (f"CASE WHEN {alloc} IS NULL OR trim({alloc}) IN ('', '{{}}') THEN {pre}Tags ELSE "
            f"'{ALLOCATED_PREFIX}' || CAST(to_json({{'t': {pre}Tags, 'a': {alloc}}}) AS VARCHAR) END")


def _folded(raw: Any, store: CostStore, report: FoldReport, column: str) -> dict[str, str]:
    try:
        parsed = parse_tags(raw)
    except TagsError as exc:
        text = str(exc)
        raise TagsError(column + text[4:] if text.startswith("Tags") else f"{column}: {text}") from exc
    # Tag keys and values are free text: control characters go (the sanitiser every renderer uses).
    clean = {one_line_plain(k): one_line_plain(v) for k, v in parsed.items()}
    if clean != parsed:
        report.stripped += 1
    return normalise(clean, store.taxonomy, report)


def fold_key(raw: Any, store: CostStore, report: FoldReport) -> dict[str, str]:
    """The folded tags of one tag-set key (tag_set_key): Tags, overlaid with AllocatedTags where given."""
    if isinstance(raw, str) and raw.startswith(ALLOCATED_PREFIX):
        pair = json.loads(raw[len(ALLOCATED_PREFIX):])
        norm = _folded(pair["t"], store, report, "Tags")
        norm.update({k: v for k, v in _folded(pair["a"], store, report, "AllocatedTags").items() if v})
        return norm
    return _folded(raw, store, report, "Tags")


def tag_rows(distinct: list[Any], store: CostStore, report: FoldReport) -> tuple[list[dict[str, Any]], dict]:
    """The tag map rows of distinct tag-set keys, and {key: why it is unreadable}."""
    rows, bad = [], {}
    keys = store.taxonomy.keys
    for raw in distinct:
        try:
            norm = fold_key(raw, store, report)
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
    key = tag_set_key(DATA_TABLE, allocated="AllocatedTags" in stored_columns(con))
    distinct = [r[0] for r in con.execute(f"SELECT DISTINCT {key} AS k FROM {DATA_TABLE} "
                                          "WHERE k IS NOT NULL").fetchall()]
    rows, _bad = tag_rows(distinct, store, FoldReport())
    con.register("_retag", tagmap_frame(rows, store))
    sets = ", ".join(f'"{c}" = t."{c}"' for c in [tag_column(k) for k in store.taxonomy.keys])
    con.execute(f"UPDATE {DATA_TABLE} SET {sets} FROM _retag t WHERE {key} = t.Tags")
    con.execute(f"DELETE FROM {TAG_SETS}")
    con.execute(f"INSERT INTO {TAG_SETS} SELECT Tags, tags_norm FROM _retag")
    con.unregister("_retag")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('taxonomy', ?)", [taxonomy_signature(store.taxonomy)])
