"""Folded tags per distinct Tags value: what a load joins onto its rows, and the refold after a taxonomy change.

Tags are parsed and folded once per distinct Tags value, never per row: the tag map holds each value's folded
map (``tags_norm``, kept in the store's TAG_SETS) and one column per taxonomy key.

The fold runs in SQL over all distinct values at once (``fold_into``) for the values whose text is plainly a flat
JSON object of strings: every key printable ASCII, no escapes, no duplicate key, no control character or
Unicode white space in a value, at most MAX_TAGS_CHARS bytes (what a bill holds nearly always). For those the
SQL gives what ``fold_key`` gives by construction: such a text is valid JSON, read by DuckDB's JSON functions
into its keys and values in order, keys fold as ``str.strip().lower()`` does on ASCII, values need no
sanitising and no JSON escaping. Every other
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
import os
import re
from pathlib import Path
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


def _pair(raw: Any) -> dict[str, Any] | None:
    """The Tags and AllocatedTags of a key ``tag_set_key`` made of both, or None for a plain Tags value (one
    that only starts like such a key, "allocated:...", is a Tags value: unreadable, so refused by row)."""
    if not (isinstance(raw, str) and raw.startswith(ALLOCATED_PREFIX)):
        return None
    try:
        pair = json.loads(raw[len(ALLOCATED_PREFIX):])
    except ValueError:
        return None
    return pair if isinstance(pair, dict) and pair.keys() == {"t", "a"} else None


def fold_key(raw: Any, store: CostStore, report: FoldReport) -> dict[str, str]:
    """The folded tags of one tag-set key (tag_set_key): Tags, overlaid with AllocatedTags where given."""
    pair = _pair(raw)
    if pair is not None:
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
    unreadable} (those get no row). Plain values are folded in SQL, the rest by ``fold_key``.

    A 5M-row bill has 300k+ distinct keys but few shapes: a shape is a key's lists of raw keys (its Tags part
    and its AllocatedTags part) and which of their values are null. How a shape folds (the raw keys each
    folded key is taken from, in order of precedence, and the folded keys in order) is worked out once per
    shape; each key then only looks its values up by position: only the shapes' entries are unnested and
    grouped, and no step joins on the key's text."""
    taxonomy = store.taxonomy
    cols = [tag_column(k) for k in taxonomy.keys]
    # An alias onto a key the SQL could not write as plain JSON text sends every value to Python.
    sql_ok = all(_PLAIN_KEY.fullmatch(v) for v in taxonomy.aliases.values())
    pre, n = _lit(ALLOCATED_PREFIX), len(ALLOCATED_PREFIX) + 1

    def plain(part: str) -> str:
        return f"({sql_ok} AND strlen({part}) <= {MAX_TAGS_CHARS} AND regexp_full_match({part}, {_lit(_OBJECT)}))"

    # Per key: its Tags part (t) and AllocatedTags part (a), each as its raw keys, values and null flags in
    # order (a plain text is valid JSON: json_keys and the $.* values read it; an empty part gives empty
    # lists); ``sql`` when each part is empty or plain.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fold_lists AS
        WITH p AS (
          SELECT k, CASE WHEN pair THEN json_extract_string(k[{n}:], '$.t') ELSE k END AS t,
                 CASE WHEN pair THEN json_extract_string(k[{n}:], '$.a') END AS a
          FROM (SELECT k, CASE WHEN NOT starts_with(k, {pre}) OR NOT json_valid(k[{n}:]) THEN false WHEN json_type(k[{n}:]) <> 'OBJECT' THEN false ELSE list_sort(json_keys(k[{n}:])) = ['a', 't'] END AS pair
                FROM ({keys_sql}))),
        g AS (SELECT k, t, a, {plain('t')} AS tp, {plain('a')} AS ap FROM p),
        l AS (
          SELECT k, (tp OR t IS NULL OR regexp_full_match(t, {_lit(_EMPTY)}))
                    AND (ap OR a IS NULL OR regexp_full_match(a, {_lit(_EMPTY)})) AS sql,
                 CASE WHEN tp THEN json_keys(t) ELSE [] END AS tk,
                 CASE WHEN tp THEN json_extract_string(t, '$.*') ELSE [] END AS tv,
                 CASE WHEN ap THEN json_keys(a) ELSE [] END AS ak,
                 CASE WHEN ap THEN json_extract_string(a, '$.*') ELSE [] END AS av
          FROM g)
        SELECT k, sql, tk, tv, list_transform(tv, lambda v: v IS NULL) AS tn,
               ak, av, list_transform(av, lambda v: v IS NULL) AS an
        FROM l""")
    # The shapes; one that repeats a raw key in a part is left to Python (json.loads keeps the last value).
    con.execute("""CREATE OR REPLACE TEMP TABLE _fold_shapes AS
        SELECT row_number() OVER () AS sid, tk, ak, tn, an,
               len(tk) <> list_unique(tk) OR len(ak) <> list_unique(ak) AS dup
        FROM (SELECT DISTINCT tk, ak, tn, an FROM _fold_lists WHERE sql)""")
    # The shapes' entries: raw key (rk), folded key (ck: as str.strip().lower() folds ASCII, then the aliases),
    # part (p: 0 AllocatedTags, 1 Tags), position (r), and whether the value is null (n).
    alias_rows = ", ".join(f"({_lit(a)}, {_lit(t)})" for a, t in taxonomy.aliases.items()) or "(NULL, NULL)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fold_entries AS
        WITH e AS (
          SELECT sid, unnest(list_concat(list_transform(ak, lambda x, i: {{'rk': x, 'p': 0, 'r': i, 'n': an[i]}}),
                                         list_transform(tk, lambda x, i: {{'rk': x, 'p': 1, 'r': i, 'n': tn[i]}}))) AS e
          FROM _fold_shapes WHERE NOT dup),
        a(alias, target) AS (VALUES {alias_rows})
        SELECT sid, e.rk AS rk, coalesce(a.target, lower(trim(e.rk))) AS ck, e.p AS p, e.r AS r, e.n AS n
        FROM e LEFT JOIN a ON a.alias = lower(trim(e.rk))""")
    # The report names the raw keys folded onto another that come with a value (parse_tags drops a null).
    for rk, ck in con.execute("SELECT DISTINCT rk, ck FROM _fold_entries WHERE NOT n AND ck <> '' AND ck <> rk"
                              ).fetchall():
        report.add(rk, ck)
    # Per shape: its folded keys in order (as json.dumps(sort_keys=True) orders them), the JSON text before
    # each one's value, and each one's candidates (part p, position r) in order of precedence: the
    # AllocatedTags part before the Tags part, in each part the first first. A null value is no candidate.
    # (list_sort, not ordered aggregates: those took seconds where every value has a shape of its own.)
    idx = "".join(f", list_position(cks, {_lit(key)}) AS i{i}" for i, key in enumerate(taxonomy.keys))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fold_plan AS
        WITH c AS (SELECT sid, ck, list_sort(list({{'p': p, 'r': r}})) AS c
                   FROM _fold_entries WHERE ck <> '' AND NOT n GROUP BY ALL),
        o AS (SELECT sid, list_sort(list({{'ck': ck, 'c': c}})) AS o FROM c GROUP BY sid),
        f AS (SELECT sid, list_transform(o, lambda e: e.ck) AS cks,
                     list_transform(o, lambda e: '"' || e.ck || '": "') AS pres,
                     list_transform(o, lambda e: e.c) AS cands FROM o),
        s AS (SELECT s.tk, s.ak, s.tn, s.an, s.dup, coalesce(f.cks, []) AS cks, coalesce(f.pres, []) AS pres,
                     coalesce(f.cands, []) AS cands FROM _fold_shapes s LEFT JOIN f USING (sid))
        SELECT *{idx} FROM s""")
    # Per key: each folded key's value is its first non-empty candidate (none: the key is left out).
    val = "CASE WHEN {c}.p = 0 THEN av[{c}.r] ELSE tv[{c}.r] END"
    first = (f"CASE WHEN len(c) = 1 THEN CASE WHEN trim({val.format(c='c[1]')}) <> '' THEN {val.format(c='c[1]')} END "
             f"ELSE list_filter(list_transform(c, lambda c: {val.format(c='c')}), lambda v: trim(v) <> '')[1] END")
    picks = "".join(f', vals[i{i}] AS "{col}"' for i, col in enumerate(cols))
    # A key of a shape left to Python gets a NULL tags_norm here: it is moved to the rest below.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT k AS Tags, CASE WHEN NOT dup THEN '{{' || coalesce(array_to_string(list_transform(vals,
                 lambda v, i: CASE WHEN v IS NOT NULL THEN pres[i] || v || '"' END), ', '), '') || '}}' END
                 AS tags_norm{picks}
        FROM (SELECT l.k, s.*, list_transform(s.cands, lambda c: {first}) AS vals
              FROM _fold_lists l JOIN _fold_plan s ON l.tk = s.tk AND l.ak = s.ak AND l.tn = s.tn AND l.an = s.an
              WHERE l.sql)""")
    rest = [r[0] for r in con.execute(f"SELECT k FROM _fold_lists WHERE NOT sql UNION ALL "
                                      f"SELECT Tags FROM {table} WHERE tags_norm IS NULL").fetchall()]
    con.execute(f"DELETE FROM {table} WHERE tags_norm IS NULL")
    for t in ("_fold_lists", "_fold_shapes", "_fold_entries", "_fold_plan"):
        con.execute(f"DROP TABLE {t}")
    rows, bad = tag_rows(rest, store, report)
    if rows:
        names = ", ".join(f'"{c}"' for c in ["Tags", "tags_norm", *cols])
        con.register("_fold_rest", tagmap_frame(rows, store))
        con.execute(f"INSERT INTO {table} SELECT {', '.join(f'CAST({c} AS VARCHAR)' for c in names.split(', '))} "
                    "FROM _fold_rest")
        con.unregister("_fold_rest")
    return bad


def store_tag_sets(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Write a fold's tag map (``table``: Tags, tags_norm) into the store's TAG_SETS, a key already there taking
    the new map. Into a store without tag sets (a first import) a plain INSERT: the same rows, without the
    conflict handling of INSERT OR REPLACE (a third of the write at 330k distinct values)."""
    empty = con.execute(f"SELECT count(*) = 0 FROM (SELECT 1 FROM {TAG_SETS} LIMIT 1)").fetchone()
    verb = "INSERT" if empty and empty[0] else "INSERT OR REPLACE"
    con.execute(f"{verb} INTO {TAG_SETS} SELECT Tags, tags_norm FROM {table}")


def tagmap_frame(rows: list[dict[str, Any]], store: CostStore) -> pd.DataFrame:
    import pandas as pd

    cols = ["Tags", "tags_norm", *[tag_column(k) for k in store.taxonomy.keys]]
    return pd.DataFrame(rows, columns=cols).astype(object)


SCRATCH_MEMORY = "400MB"  # StoredFold's scratch connection (it spills into its folder beyond this)


class StoredFold:
    """The fold of the tag-set keys of the stored rows ``where`` (SQL over DATA_TABLE) selects, made inside the
    store's write transaction on ``con``; ``write`` writes those rows' tag columns and the keys' rows in
    TAG_SETS (a key already there takes the new map). Use as a context manager.

    A load's rows are written first and folded after: its source is then read once (the keys are read from
    the stored Tags column, which DuckDB keeps dictionary-compressed: 0.05 s for 330k keys in 5M rows).
    ``bad`` maps each unreadable key to why (it gets no row: a load refuses it); ``present`` are the tag
    columns some key has a value in (every taxonomy key's with ``every_key``), added to the store's table.
    The fold runs on a scratch connection: this transaction may write nowhere else (not even temporary
    tables), so the keys and the fold pass through Parquet files in a private scratch folder."""

    def __init__(self, con: duckdb.DuckDBPyConnection, store: CostStore, where: str, report: FoldReport, *,
                 every_key: bool = False) -> None:
        import tempfile

        import duckdb

        self.con, self.store, self.where = con, store, where
        allocated = "AllocatedTags" in stored_columns(con)
        self.key, self._stored_key = tag_set_key("li", allocated=allocated), tag_set_key(DATA_TABLE, allocated=allocated)
        cols = [tag_column(k) for k in store.taxonomy.keys]
        # Named as the staging's scratch files are, so that `finops-tui doctor` finds one an interrupted import
        # left behind.
        self._folder = tempfile.TemporaryDirectory(prefix=f".{store.path.stem}.staging-{os.getpid()}-fold-",
                                                   dir=store.path.parent)
        keys, folded = Path(self._folder.name, "keys.parquet"), Path(self._folder.name, "folded.parquet")
        self.relation = f"read_parquet({_lit(str(folded))})"
        try:
            con.execute(f"COPY (SELECT DISTINCT {self.key} AS k FROM {DATA_TABLE} li WHERE ({where}) AND "
                        f"{self.key} IS NOT NULL) TO {_lit(str(keys))} (FORMAT parquet)")
            scratch = duckdb.connect()
            try:
                scratch.execute(f"SET temp_directory = {_lit(self._folder.name)}")
                scratch.execute(f"SET memory_limit = '{SCRATCH_MEMORY}'")
                self.bad = fold_into(scratch, f"SELECT k FROM read_parquet({_lit(str(keys))})", "_fold", store,
                                     report)
                counts = scratch.execute("SELECT " + ", ".join([*(f'count("{c}")' for c in cols), "count(*)"])
                                         + " FROM _fold").fetchone()
                assert counts is not None
                scratch.execute(f"COPY _fold TO {_lit(str(folded))} (FORMAT parquet)")
            finally:
                scratch.close()
        except BaseException:
            self.close()
            raise
        self.present = [c for c, n in zip(cols, counts, strict=False) if n or every_key]
        self.keys = int(counts[-1])
        create_schema(con, store.taxonomy, tuple(self.present))

    def overlay(self) -> str:
        """SQL of the line_items view with this fold's tag values on the rows it folded (before ``write``)."""
        if not self.present or not self.keys:
            return "line_items"
        picks = ", ".join(f'CASE WHEN f.Tags IS NOT NULL THEN f."{c}" ELSE li."{c}" END AS "{c}"' for c in self.present)
        return (f"(SELECT li.* REPLACE ({picks}) FROM line_items li LEFT JOIN {self.relation} f "
                f"ON ({self.where}) AND {self.key} = f.Tags)")

    def write(self) -> None:
        """Write the folded rows' tag columns and the keys' tag sets."""
        if not self.keys:
            return
        if self.present:
            sets = ", ".join(f'"{c}" = t."{c}"' for c in self.present)
            self.con.execute(f"UPDATE {DATA_TABLE} SET {sets} FROM {self.relation} t WHERE ({self.where}) "
                             f"AND {self._stored_key} = t.Tags")
        store_tag_sets(self.con, self.relation)

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> StoredFold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def retag(con: duckdb.DuckDBPyConnection, store: CostStore) -> None:
    """Recompute the folded tag columns of every stored row (after the taxonomy changed)."""
    create_schema(con, store.taxonomy, tuple(tag_column(k) for k in store.taxonomy.keys))
    con.execute(f"DELETE FROM {TAG_SETS}")
    with StoredFold(con, store, "true", FoldReport(), every_key=True) as fold:
        fold.write()
    con.execute("INSERT OR REPLACE INTO meta VALUES ('taxonomy', ?)", [taxonomy_signature(store.taxonomy)])
