"""The account -> team rules as a connection's temporary table: every rule once, whatever their number
(they are inserted in statements of ``RULES_PER_INSERT`` rows)."""

from __future__ import annotations

import duckdb
import pytest

from storage.cost_queries.base import RULES_PER_INSERT, create_rules


@pytest.mark.parametrize("count", [0, 1, RULES_PER_INSERT, 2 * RULES_PER_INSERT + 7])
def test_every_rule_is_in_the_table_once(count: int) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE line_items (SubAccountId VARCHAR)")
    rules = {f"{i:012d}": f"team-{i % 13}" for i in range(count)}
    rules["o'brien"] = "team 'quoted'"  # values are parameters, never SQL text
    create_rules(con, rules)
    got = dict(con.execute("SELECT account_id, team FROM _rules").fetchall())
    assert got == rules
    assert con.execute("SELECT count(*) FROM _rules").fetchone()[0] == len(rules)
