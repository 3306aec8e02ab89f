"""Folded tags per distinct Tags value: what a load joins onto its rows, and the refold after a taxonomy change.

Tags are parsed and folded once per distinct Tags value, never per row: the tag map holds each value's folded
map (``tags_norm``, kept in the store's TAG_SETS) and one column per taxonomy key.

The fold runs in SQL over all distinct values at once (``fold_into``) for the values whose text is plainly a flat
JSON object of strings: every key printable ASCII, no escapes, no duplicate key, no control character or
Unicode white space in a value, at most MAX_TAGS_CHARS bytes (what a bill holds nearly always). For those the
SQL gives what ``fold_key`` gives by construction: the text is tokenised by the same grammar JSON has, keys
fold as ``str.strip().lower()`` does on ASCII, values need no sanitising and no JSON escaping. Every other
value (escapes, numbers, unreadable text, odd white space, non-ASCII keys) goes through ``fold_key`` in
Python, one by one: few on a real bill. tests/unit/test_tag_fold_sql.py holds both folds equal.

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
import re
from typing import TYPE_CHECKING, Any

from storage.schema import DATA_TABLE, TAG_SETS, create_schema, stored_columns, taxonomy_signature
from storage.tags import MAX_TAGS_CHARS, FoldReport, TagsError, folded_json, normalise, parse_tags, tag_column
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


# The flat JSON objects the SQL fold reads (RE2): keys of printable ASCII without quote or backslash; values
# without quote, backslash, control characters (C0, DEL, C1: what the sanitiser strips) or the Unicode white
# space str.strip() removes; JSON white space between tokens.
_WS = r"[ \t\n\r]*"
_KEY = r"[\x20\x21\x23-\x5b\x5d-\x7e]*"
_VALUE = (r"[^\"\\\x00-\x1f\x7f-\x{9f}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}"
          r"\x{3000}]*")
_PAIR = f'"({_KEY})"{_WS}:{_WS}("{_VALUE}"|null)'
_OBJECT = f"{_WS}\\{{{_WS}({_PAIR}({_WS},{_WS}{_PAIR})*)?{_WS}\\}}{_WS}"
_EMPTY = f"{_WS}(NULL|null|\\{{\\}})?{_WS}"
_PLAIN_KEY = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fold_into(con: duckdb.DuckDBPyConnection, keys_sql: str, table: str, store: CostStore,
              report: FoldReport) -> dict[Any, str]:
    """Fold the distinct tag-set keys that ``keys_sql`` yields (one column ``k``, no NULL, no repeats) into
    ``table`` (Tags, tags_norm, one column per taxonomy key), created on ``con``; returns {key: why it is
    unreadable} (those get no row). Plain values are folded in SQL, the rest by ``fold_key``."""
    keys = store.taxonomy.keys
    aliases = store.taxonomy.aliases
    cols = [tag_column(k) for k in keys]
    # An alias onto a key the SQL could not write as plain JSON text sends every value to Python.
    sql_ok = all(_PLAIN_KEY.fullmatch(v) for v in aliases.values())
    pre = ALLOCATED_PREFIX
    # Every step below carries a key by its number (id), not its text: a 5M-row bill has 300k+ keys.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _fold_keys AS SELECT k, row_number() OVER () AS id FROM ({keys_sql})")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fold_parts AS
        WITH p AS (
          SELECT id, 0 AS part, CASE WHEN starts_with(k, {_lit(pre)})
                                    THEN json_extract_string(k[{len(pre) + 1}:], '$.t') ELSE k END AS txt
          FROM _fold_keys
          UNION ALL
          SELECT id, 1, json_extract_string(k[{len(pre) + 1}:], '$.a') FROM _fold_keys
          WHERE starts_with(k, {_lit(pre)}))
        SELECT id, part, txt,
               txt IS NULL OR regexp_full_match(txt, {_lit(_EMPTY)}) AS empty,
               {sql_ok} AND strlen(txt) <= {MAX_TAGS_CHARS} AND regexp_full_match(txt, {_lit(_OBJECT)}) AS plain
        FROM p""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fold_entries AS
        WITH x AS (
          SELECT id, part, regexp_extract_all(txt, {_lit(_PAIR)}, 1) AS ks,
                 regexp_extract_all(txt, {_lit(_PAIR)}, 2) AS vs
          FROM _fold_parts WHERE plain AND NOT empty),
        e AS (SELECT id, part, generate_subscripts(ks, 1) AS pos, unnest(ks) AS rk, unnest(vs) AS v,
                     len(ks) <> len(list_distinct(ks)) AS dup FROM x)
        SELECT id, part, pos, rk, CASE WHEN v = 'null' THEN NULL ELSE v[2:-2] END AS rv, dup FROM e""")
    alias_rows = ", ".join(f"({_lit(a)}, {_lit(t)})" for a, t in aliases.items()) or "(NULL, NULL)"
    # A key is folded in SQL when each of its parts is empty or plain without a repeated raw key.
    con.execute("""CREATE OR REPLACE TEMP TABLE _fold_sql AS
        SELECT id FROM _fold_parts GROUP BY id HAVING bool_and(empty OR plain)
        EXCEPT SELECT id FROM _fold_entries WHERE dup""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fold_kv AS
        WITH a(alias, target) AS (VALUES {alias_rows}),
        c AS (
          SELECT e.id, e.part, e.pos, e.rk, e.rv, coalesce(a.target, lower(trim(e.rk))) AS ck
          FROM _fold_entries e SEMI JOIN _fold_sql s ON e.id = s.id
          LEFT JOIN a ON a.alias = lower(trim(e.rk))
          WHERE e.rv IS NOT NULL)
        SELECT id, ck, rk, part, pos, rv FROM c WHERE ck <> ''""")
    for canonical, raw in con.execute("SELECT DISTINCT ck, rk FROM _fold_kv WHERE ck <> rk").fetchall():
        report.add(raw, canonical)
    picks = "".join(f", list_filter(g.kv, lambda e: e.k = {_lit(key)})[1].v AS \"{col}\""
                    for key, col in zip(keys, cols, strict=True))
    # Per key: the AllocatedTags value over the Tags value; in each part the first non-empty one. The map's
    # entries sorted by key (as json.dumps(sort_keys=True) sorts them) with list_sort, not an ordered
    # aggregate (which took 4 s of a 5M-row import under the staging's memory limit).
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fold_done AS
        WITH v AS (
          SELECT id, ck, arg_max(rv, part * 1000000000 - pos) AS v
          FROM _fold_kv WHERE trim(rv) <> '' GROUP BY id, ck),
        g AS (SELECT id, list_sort(list({{'k': ck, 'v': v}})) AS kv FROM v GROUP BY id)
        SELECT f.k AS Tags,
               CASE WHEN g.kv IS NULL THEN '{{}}' ELSE '{{' || array_to_string(list_transform(g.kv,
                    lambda e: '"' || e.k || '": "' || e.v || '"'), ', ') || '}}' END AS tags_norm{picks}
        FROM _fold_sql s JOIN _fold_keys f ON f.id = s.id LEFT JOIN g ON g.id = s.id""")
    rest = [r[0] for r in con.execute("SELECT k FROM _fold_keys ANTI JOIN _fold_sql USING (id)").fetchall()]
    rows, bad = tag_rows(rest, store, report)
    con.register("_fold_rest", tagmap_frame(rows, store))
    names = ", ".join(f'"{c}"' for c in ["Tags", "tags_norm", *cols])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {names} FROM _fold_done "
                f"UNION ALL SELECT {', '.join(f'CAST({n} AS VARCHAR)' for n in names.split(', '))} FROM _fold_rest")
    con.unregister("_fold_rest")
    for t in ("_fold_keys", "_fold_parts", "_fold_entries", "_fold_sql", "_fold_kv", "_fold_done"):
        con.execute(f"DROP TABLE {t}")
    return bad


def tagmap_frame(rows: list[dict[str, Any]], store: CostStore) -> pd.DataFrame:
    import pandas as pd

    cols = ["Tags", "tags_norm", *[tag_column(k) for k in store.taxonomy.keys]]
    return pd.DataFrame(rows, columns=cols).astype(object)


def retag(con: duckdb.DuckDBPyConnection, store: CostStore) -> None:
    """Recompute the folded tag columns of every stored row (after the taxonomy changed)."""
    create_schema(con, store.taxonomy, tuple(tag_column(k) for k in store.taxonomy.keys))
    import duckdb

    key = tag_set_key(DATA_TABLE, allocated="AllocatedTags" in stored_columns(con))
    distinct = con.execute(f"SELECT DISTINCT {key} AS k FROM {DATA_TABLE} WHERE k IS NOT NULL").df()
    # Folded on a scratch connection: this runs inside the store's write transaction, which may write
    # nowhere else (not even temporary tables).
    scratch = duckdb.connect()
    try:
        scratch.register("_keys", distinct)
        fold_into(scratch, "SELECT k FROM _keys", "_retag", store, FoldReport())
        folded = scratch.execute("SELECT * FROM _retag").df()
    finally:
        scratch.close()
    con.register("_retag", folded)
    sets = ", ".join(f'"{c}" = t."{c}"' for c in [tag_column(k) for k in store.taxonomy.keys])
    con.execute(f"UPDATE {DATA_TABLE} SET {sets} FROM _retag t WHERE {key} = t.Tags")
    con.execute(f"DELETE FROM {TAG_SETS}")
    con.execute(f"INSERT INTO {TAG_SETS} SELECT Tags, tags_norm FROM _retag")
    con.unregister("_retag")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('taxonomy', ?)", [taxonomy_signature(store.taxonomy)])
