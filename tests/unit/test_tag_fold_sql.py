"""The SQL fold of distinct Tags values (storage.tag_sets.fold_into) gives what the Python fold (tag_rows, one
value at a time) gives: the folded map, the taxonomy columns, the refusals and the folded-key report, on
generated tricky keys and values (case and white space variants, aliases, Unicode white space, control
characters, escapes, quotes, duplicates, non-string values, unreadable text, AllocatedTags overlays)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.config import Taxonomy
from storage.costs import CostStore
from storage.tag_sets import fold_into, tag_rows, tag_set_key
from storage.tags import FoldReport, tag_column

TAXONOMY = Taxonomy(aliases={"env": "environment", "costcenter": "cost-center", "cost center": "cost-center"})

KEYS = st.one_of(
    st.sampled_from(["team", "Team", " team", "TEAM ", "env", "Environment", "CostCenter", "cost center", "owner",
                     "service", "app", "Name", "", " ", "t\u00e9am", "\u00a0team", "te\"am", "te\\am", "team\t",
                     "\u0130d", "k\u200b", "x:y", "aws:createdBy"]),
    st.text(max_size=6),
)
VALUES = st.one_of(
    st.sampled_from(["prod", "", " ", "  dev ", "\u00e9quipe", "a\"b", "a\\b", "x\x1b[31my", "line\nbreak", "tab\t",
                     "\u00a0", "\u3000", "\u2028", "caf\u00e9 \u2603", "\x85", "null", "{}", "a,b:c}"]),
    st.text(max_size=6),
    st.none(), st.integers(-5, 5), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.just({"nested": 1}), st.just([1, "a"]),
)

# What a bill mostly holds (the values the SQL folds): keys that fold onto each other, plain string values.
PLAIN_KEYS = st.sampled_from(["team", "Team", " team", "TEAM ", "env", "Environment", "environment", "CostCenter",
                              "cost center", "owner", "app", "Name", "", " "])
PLAIN_VALUES = st.one_of(st.sampled_from(["prod", "", " ", "dev", "caf\u00e9", "a,b:c}", "null", "{}", "x y"]),
                         st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=126,
                                                          exclude_characters='"\\'), max_size=4))


@st.composite
def tags_text(draw: st.DrawFn) -> str | None:
    kind = draw(st.sampled_from(["plain", "plain", "plain", "object", "object", "dupes", "empty", "bad", "none"]))
    if kind == "none":
        return None
    if kind == "empty":
        return draw(st.sampled_from(["", " ", "{}", " {} ", "NULL", "null", "\t{}\n", "{ }", "\u00a0{}"]))
    if kind == "bad":
        return draw(st.sampled_from(["{", "[1, 2]", "\"team\"", "{'team': 'a'}", "{\"a\": \"b\",}", "NaN", "x" * 70000,
                                     "{\"a\": \"b\"} x", "{\"a\": \"b\x01\"}"]))
    pairs = draw(st.lists(st.tuples(PLAIN_KEYS, PLAIN_VALUES) if kind == "plain" else st.tuples(KEYS, VALUES),
                          max_size=5))
    if kind == "dupes" and pairs:
        pairs.append((pairs[0][0], draw(VALUES)))
    sep = draw(st.sampled_from([(", ", ": "), (",", ":"), (" ,\n", " :\t")]))
    ascii_only = draw(st.booleans())
    body = sep[0].join(json.dumps(k, ensure_ascii=ascii_only) + sep[1] + json.dumps(v, ensure_ascii=ascii_only)
                       for k, v in pairs)
    return draw(st.sampled_from(["", " ", "\n"])) + "{" + body + "}"


def folds(rows: list[tuple[str | None, str | None]], store: CostStore) -> tuple[dict, dict, dict, dict, dict]:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (Tags VARCHAR, AllocatedTags VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?, ?)", rows)
    keys_sql = f"SELECT DISTINCT {tag_set_key()} AS k FROM s WHERE k IS NOT NULL"
    keys = [r[0] for r in con.execute(keys_sql).fetchall()]
    py_report, sql_report = FoldReport(), FoldReport()
    py_rows, py_bad = tag_rows(keys, store, py_report)
    sql_bad = fold_into(con, keys_sql, "tagmap", store, sql_report)
    cols = ["Tags", "tags_norm", *(tag_column(k) for k in store.taxonomy.keys)]
    sql = {r[0]: r[1:] for r in con.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} "
                                            "FROM temp.tagmap").fetchall()}
    con.close()
    py = {r["Tags"]: tuple(r[c] for c in cols[1:]) for r in py_rows}
    return py, sql, (py_bad, sql_bad), (py_report.as_dict(), sql_report.as_dict()), \
        {"stripped": (py_report.stripped, sql_report.stripped)}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(tags_text(), st.one_of(st.none(), tags_text())), min_size=1, max_size=12))
def test_the_sql_fold_equals_the_python_fold(tmp_path_factory, rows) -> None:
    store = CostStore(Path(tmp_path_factory.mktemp("fold")) / "costs.duckdb", TAXONOMY)
    py, sql, (py_bad, sql_bad), (py_rep, sql_rep), stripped = folds(rows, store)
    assert sql == py
    assert sql_bad == py_bad
    assert sql_rep == py_rep
    assert stripped["stripped"][0] == stripped["stripped"][1]


def test_plain_values_are_folded_in_sql_not_one_by_one(tmp_path: Path, monkeypatch) -> None:
    """A bill's usual values never reach the Python fold; the odd ones do, and come out the same."""
    import storage.tag_sets as tag_sets

    seen: list[object] = []
    real = tag_sets.tag_rows

    def spy(distinct, store, report):  # type: ignore[no-untyped-def]
        seen.extend(distinct)
        return real(distinct, store, report)

    monkeypatch.setattr(tag_sets, "tag_rows", spy)
    plain = [(json.dumps({"Team": f"t{i}", "env": "prod", "Name": f"r-{i}"}), None) for i in range(500)]
    odd = [("{\"team\": \"caf\\u00e9\"}", None), ("{\"team\": 3}", None), ("not json", None)]
    store = CostStore(tmp_path / "costs.duckdb", TAXONOMY)
    con = duckdb.connect()
    con.execute("CREATE TABLE s (Tags VARCHAR, AllocatedTags VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?, ?)", plain + odd)
    bad = fold_into(con, f"SELECT DISTINCT {tag_set_key()} AS k FROM s WHERE k IS NOT NULL", "tagmap", store,
                    FoldReport())
    assert sorted(seen) == sorted(t for t, _a in odd)
    assert list(bad) == ["not json"]
    got = dict(con.execute("SELECT Tags, tag_team FROM temp.tagmap").fetchall())
    assert got[plain[7][0]] == "t7"
    assert got["{\"team\": \"caf\\u00e9\"}"] == "caf\u00e9"
    assert got["{\"team\": 3}"] == "3"
    assert len(got) == 502


# Rows that share shapes (the SQL fold works out how a list of raw keys folds once, then looks values up by
# position): a few key lists, each the shape of many rows whose values are empty, blank, null or not.
SHAPE_KEYS = st.lists(PLAIN_KEYS, max_size=5)
SHAPE_VALUES = st.one_of(st.sampled_from(["prod", "dev", "", " ", "  x ", "caf\u00e9", "{}"]), st.none())


@st.composite
def shared_shapes(draw: st.DrawFn) -> list[tuple[str | None, str | None]]:
    shapes = draw(st.lists(SHAPE_KEYS, min_size=1, max_size=3))

    def text() -> str | None:
        keys = draw(st.sampled_from([*shapes, None]))
        if keys is None:
            return None
        body = ", ".join(json.dumps(k) + ": " + json.dumps(draw(SHAPE_VALUES)) for k in keys)
        return "{" + body + "}"

    return [(text(), text() if draw(st.booleans()) else None) for _ in range(draw(st.integers(1, 16)))]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(shared_shapes())
def test_rows_sharing_a_shape_fold_as_in_python(tmp_path_factory, rows) -> None:
    store = CostStore(Path(tmp_path_factory.mktemp("fold")) / "costs.duckdb", TAXONOMY)
    py, sql, (py_bad, sql_bad), (py_rep, sql_rep), _stripped = folds(rows, store)
    assert sql == py
    assert sql_bad == py_bad == {}
    assert sql_rep == py_rep


def tag_set_key_of(tags: str, allocated: str) -> str:
    con = duckdb.connect()
    key = con.execute(f"SELECT {tag_set_key('s')} FROM (SELECT ?::VARCHAR AS Tags, ?::VARCHAR AS AllocatedTags) s",
                      [tags, allocated]).fetchone()[0]
    con.close()
    return key


def test_one_shape_many_values(tmp_path: Path) -> None:
    """One list of raw keys (two spellings of team, an alias of environment) under values that change which
    spelling wins, nulls, and an AllocatedTags overlay: each folds as the Python fold does."""
    keys = ["Team", " team", "env", "Environment", "app"]
    values = [["a", "b", "prod", "dev", "x"], ["", "b", None, "dev", " "], [" ", "", "", None, None],
              [None, "c", "prod", "", "y"], ["a", None, " ", "stage", "x"]]
    rows: list[tuple[str | None, str | None]] = [
        ("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in zip(keys, vs, strict=True)) + "}", None)
        for vs in values]
    rows += [(rows[0][0], "{\"team\": \"over\", \"env\": \"\"}"), (rows[1][0], "{\"TEAM\": null, \"app\": \"z\"}"),
             (rows[4][0], "{\"app\": \"z\", \"Team\": \"over\"}"),  # a later position still wins over Tags
             (rows[2][0], "{\"team\": \"t\", \"team\": \"u\"}")]  # the last repeats a raw key: Python folds it
    store = CostStore(tmp_path / "costs.duckdb", TAXONOMY)
    py, sql, (py_bad, sql_bad), (py_rep, sql_rep), _stripped = folds(rows, store)
    assert sql == py
    assert len(sql) == len(rows)
    assert sql_bad == py_bad == {}
    assert sql_rep == py_rep
    first = sql[rows[0][0]]
    assert first[0] == '{"app": "x", "environment": "prod", "team": "a"}'
    assert sql[rows[1][0]][0] == '{"environment": "dev", "team": "b"}'
    assert sql[rows[2][0]][0] == "{}"
    assert sql[tag_set_key_of(rows[4][0], "{\"app\": \"z\", \"Team\": \"over\"}")][1] == "over"
