"""The cost store's named queries (storage/cost_queries) are the only way rituals read costs.

The architecture keeps itself: no module under rituals/ holds SQL, imports duckdb, opens a connection or
registers a frame. And a few named queries against figures computed here, independently, with plain Python
and pandas over the same generated line items the store was loaded with.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from storage import cost_queries as cq
from storage.config import Taxonomy
from storage.costs import CostStore
from storage.loader import Staging

RITUALS = Path(__file__).resolve().parents[2] / "rituals"

# -- the architecture ----------------------------------------------------------------------------------------
SQL = re.compile(r"\bSELECT\b|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+\w+\s+SET\b|\bGROUP\s+BY\b"
                 r"|\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(?:TABLE|VIEW)\b|\bILIKE\b"
                 r"|(?i:\bFROM\s+(?:line_items|aws_\w+|commitment_inventory|imports|meta|tag_sets)\b"
                 r"|\binformation_schema\b|\bjson_extract)")
# Cost-store calls that only raw SQL needs: connections, frame registration, SQL fragments, raw queries.
BANNED_CALLS = {"connect", "register", "tag_expr", "sql", "attach_store", "sql_string", "json_path"}
BANNED_IMPORTS = {"storage.costs": {"connect", "attach_store", "sql_string", "json_path"}}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def sql_violations(source: str, name: str = "<source>") -> list[str]:
    """What in ``source`` reads costs around the named queries (empty: nothing)."""
    tree = ast.parse(source, name)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        line = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if SQL.search(node.value):
                found.append(f"{line}: SQL in a string: {node.value[:60]!r}")
        elif isinstance(node, ast.Import):
            found += [f"{line}: imports {a.name}" for a in node.names if a.name.split(".")[0] == "duckdb"]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] == "duckdb":
                found.append(f"{line}: imports from {module}")
            if module == "storage.cost_queries.base":
                found.append(f"{line}: imports SQL fragments from {module}")
            names = {a.name for a in node.names} & BANNED_IMPORTS.get(module, set())
            found += [f"{line}: imports {module}.{n}" for n in sorted(names)]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in BANNED_CALLS:
                found.append(f"{line}: calls {called}()")
            elif called in ("reader", "writer") and not node.args and not node.keywords:
                found.append(f"{line}: opens the cost store with {called}()")
            elif called in ("query", "execute", "executemany") and node.args and _is_text(node.args[0]):
                found.append(f"{line}: runs SQL text with {called}()")
    return found


def test_the_checker_catches_each_way_round_the_named_queries() -> None:
    bad = '''
import duckdb
from storage.costs import CostStore, sql_string
from storage.cost_queries.base import allocation_sql

def f(store, con, frame, x):
    """A docstring may say SELECT."""
    with store.reader() as c:
        c.register("_rules", frame)
    store.query("SELECT 1")
    con.execute(f"SELECT sum(EffectiveCost) FROM {x}")
    store.tag_expr(con, "team")
    duckdb.connect("x")
    return "coalesce(sum(EffectiveCost), 0) FROM line_items"
'''
    got = "\n".join(sql_violations(bad))
    for expected in ("imports duckdb", "imports storage.costs.sql_string", "SQL fragments", "reader()",
                     "calls register()", "runs SQL text with query()", "runs SQL text with execute()",
                     "calls tag_expr()", "calls connect()", "FROM line_items"):
        assert expected in got, (expected, got)
    assert "docstring" not in got
    fine = 'def g(session, stmt, rows):\n    session.execute(stmt)\n    return "select a team", csv.reader(rows)\n'
    assert sql_violations(fine) == []


def test_no_ritual_module_reads_costs_around_the_named_queries() -> None:
    files = sorted(RITUALS.rglob("*.py"))
    assert len(files) > 20  # the rituals really were scanned
    found = [v for f in files for v in sql_violations(f.read_text(encoding="utf-8"), str(f.relative_to(RITUALS)))]
    assert found == [], "\n".join(found)


# -- a generated company and independent figures -------------------------------------------------------------
TAX = Taxonomy("team", ("environment",), {"env": "environment"}, {"team": ("web", "data", "search")})
RULES = {"A2": "data"}  # account A2 is owned by team data
SHARED = ("A3",)
UNTAGGABLE = ("Tax", "Credit")
D0 = date(2026, 10, 19)  # a Monday; the rows run into November
DAYS = 28
SERVICES = ("EC2", "S3", "AWS Support (Business)", "RDS", "")
TAGS = (None, {"team": "web"}, {" Team": "data"}, {"team": " web "}, {"team": "Web"}, {"team": "ops"},
        {"env": "prod"}, {"team": "search", "env": "dev"}, {"TEAM": ""})


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[CostStore, pd.DataFrame]:
    rng = np.random.default_rng(11)
    rows = []
    for _ in range(400):
        day = D0 + timedelta(days=int(rng.integers(0, DAYS)))
        category = str(rng.choice(["Usage"] * 8 + ["Tax", "Credit", "Purchase"]))
        status = str(rng.choice(["", "", "Used", "Unused"])) or None
        listed = rng.random() < 0.85
        cost = float(round(rng.uniform(-5, 100), 2))
        rows.append({
            "ChargePeriodStart": pd.Timestamp(day), "EffectiveCost": cost, "BilledCost": round(cost * 1.1, 2),
            "ListCost": round(cost * 1.4, 2) if listed else None, "ChargeCategory": category,
            "ChargeFrequency": rng.choice(["Usage-Based", "Usage-Based", "Recurring", "One-Time", None]),
            "SubAccountId": str(rng.choice(["A1", "A2", "A3", "A4"])), "SubAccountName": None,
            "ServiceName": str(rng.choice(SERVICES)) or None, "RegionId": "eu-west-1",
            "ResourceId": f"r-{int(rng.integers(0, 12))}", "BillingAccountId": "payer", "BillingCurrency": "USD",
            "Tags": json.dumps(TAGS[int(rng.integers(0, len(TAGS)))]) if rng.random() < 0.9 else None,
            "x_CostCategories": json.dumps({"team": "search"}) if rng.random() < 0.1 else None,
            "PricingCategory": "Committed" if status == "Used" else "Standard",
            "CommitmentDiscountStatus": status, "CommitmentDiscountId": "sp-1" if status else None,
            "CommitmentDiscountType": "Compute Savings Plan" if status else None,
        })
    frame = pd.DataFrame(rows)
    for a in ("A1", "A2", "A3", "A4"):
        frame.loc[frame["SubAccountId"] == a, "SubAccountName"] = f"name-{a}"
    store = CostStore(tmp_path_factory.mktemp("named") / "costs.duckdb", TAX)
    with Staging(store) as staging:
        staging.append_frame(frame, "test")
        staging.commit(replace_all=True)
    return store, expected_columns(frame)


def _tag(tags: object, key: str) -> str | None:
    """A key's value as allocation counts it: key case and white space folded, aliases applied, the value
    trimmed and non-empty, and allowed where the taxonomy lists values."""
    if not isinstance(tags, str):
        return None
    for raw, value in (json.loads(tags) or {}).items():
        folded = raw.strip().lower()
        if TAX.aliases.get(folded, folded) == key:
            value = value.strip() or None
            allowed = TAX.allowed_values.get(key)
            return value if value is None or not allowed or value in allowed else None
    return None


def expected_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The generated rows with their day, allocation (value, how) and spend flags worked out in Python."""
    out = frame.copy()
    out["day"] = out["ChargePeriodStart"].dt.date
    # Python lists, not columns, until the end: a column turns None into NaN, which is truthy.
    tag = [_tag(t, "team") for t in out["Tags"]]
    rule = [RULES.get(a) or (json.loads(c)["team"] if isinstance(c, str) else None)
            for a, c in zip(out["SubAccountId"], out["x_CostCategories"], strict=True)]
    out["value"] = pd.Series([t or r for t, r in zip(tag, rule, strict=True)], index=out.index, dtype=object)
    out["how"] = pd.Series(["tag" if t else "rule" if r else None for t, r in zip(tag, rule, strict=True)],
                           index=out.index, dtype=object)
    freq = out["ChargeFrequency"].fillna("Usage-Based")
    out["measured"] = (out["ChargeCategory"] == "Usage") & ~freq.isin(["Recurring", "One-Time"])
    return out


def window(rows: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return rows[(rows["day"] >= start) & (rows["day"] < end)]


def test_allocation_costs_split_spend_by_tag_and_by_rule(company) -> None:
    store, rows = company
    start, end = D0 + timedelta(days=3), D0 + timedelta(days=17)
    part = window(rows, start, end)
    part = part[part["ChargeCategory"].isin(["Usage", "Tax"])]
    got = cq.allocation_costs(store, RULES, start, end, ("Usage", "Tax"))
    assert got == pytest.approx((part["EffectiveCost"].sum(), part.loc[part["how"] == "tag", "EffectiveCost"].sum(),
                                 part.loc[part["how"] == "rule", "EffectiveCost"].sum()))
    assert 0 < got[1] < got[0] and got[2] > 0  # the frame exercises every branch


def _reason(r: pd.Series) -> str | None:
    if r["SubAccountId"] in SHARED:
        return "shared_account"
    if isinstance(r["ServiceName"], str) and "support" in r["ServiceName"].lower():
        return "support"
    if r["ChargeCategory"] in UNTAGGABLE and r["how"] != "tag":
        return "untaggable"
    return "unallocated" if r["value"] is None else None


def test_showback_costs_give_each_month_its_direct_and_shared_spend(company) -> None:
    store, rows = company
    start, end = D0, D0 + timedelta(days=DAYS)
    part = window(rows, start, end)
    expected: dict[tuple[date, str | None, str | None], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for _i, r in part.iterrows():
        reason = _reason(r)
        key = (r["day"].replace(day=1), r["value"] if reason is None else None, reason)
        expected[key][0] += r["EffectiveCost"]
        expected[key][1] += r["BilledCost"]
    got = cq.showback_costs(store, RULES, SHARED, start, end, untaggable_categories=UNTAGGABLE)
    assert all(isinstance(line, cq.ShowbackLine) for line in got)
    assert got == sorted(got, key=lambda line: (line.period, line.team is None, line.team or "",  # NULLS LAST
                                                line.reason is None, line.reason or ""))
    lines = {(p, t, s): [c, b] for p, t, s, c, b in got}
    assert all(isinstance(p, date) for p, _t, _s in lines)
    assert lines.keys() == expected.keys()
    for key, (cost, billed) in expected.items():
        assert lines[key] == pytest.approx([cost, billed]), key
    assert {k[2] for k in lines} == {None, "shared_account", "support", "untaggable", "unallocated"}


def test_anomaly_series_are_daily_usage_per_service_account_team_and_total(company) -> None:
    store, rows = company
    part = rows[rows["measured"]].assign(service=rows["ServiceName"].fillna("(none)"))
    expected: dict[tuple[str, str, date], float] = defaultdict(float)
    for r in part.itertuples():
        for dim, value in (("service", r.service), ("account", r.SubAccountId), ("team", r.value),
                           ("total", "everything")):
            if value is not None:
                expected[(dim, value, r.day)] += r.EffectiveCost
    got = cq.anomaly_series(store, RULES, total_value="everything")
    series = {(d, v, pd.Timestamp(day).date()): c for d, v, day, c in got.itertuples(index=False)}
    assert series.keys() == expected.keys()
    assert [series[k] for k in expected] == pytest.approx(list(expected.values()))
    one = cq.anomaly_series(store, RULES, ("team", "data"))
    assert {pd.Timestamp(d).date(): c for d, c in zip(one["day"], one["cost"], strict=True)} == pytest.approx(
        {k[2]: c for k, c in expected.items() if k[:2] == ("team", "data")})


def test_commitment_usage_counts_covered_eligible_and_unused(company) -> None:
    store, rows = company
    start, end = D0, D0 + timedelta(days=14)
    part = window(rows, start, end)
    part = part[part["ChargeCategory"] == "Usage"].assign(service=lambda f: f["ServiceName"].fillna(""))
    status = part["CommitmentDiscountStatus"].fillna("")
    used = (part["PricingCategory"] == "Committed") & (status == "Used")
    unused = status == "Unused"
    # A service is proven committable by a covered or an unused-commitment row; a covered row without a
    # ListCost (0 or empty) has no on-demand equivalent and is left out of coverage, counted apart.
    proven = set(part.loc[used | unused, "service"])
    left_out = used & (part["ListCost"].fillna(0) == 0)
    eligible = (part["service"].isin({"EC2"} | proven) | used) & ~unused & ~left_out
    on_demand = part["ListCost"].fillna(part["EffectiveCost"])
    got = cq.commitment_usage(store, start, end, ["EC2"])
    assert proven - {"EC2"}  # some service is eligible only because the data shows it covered
    assert got["eligible"].sum() == pytest.approx(on_demand[eligible].sum())
    assert got["covered"].sum() == pytest.approx(on_demand[eligible & used].sum())
    assert got["eligible_effective"].sum() == pytest.approx(part.loc[eligible, "EffectiveCost"].sum())
    assert got["used"].sum() == pytest.approx(part.loc[status == "Used", "EffectiveCost"].sum())
    assert got["unused"].sum() == pytest.approx(part.loc[unused, "EffectiveCost"].sum())
    assert got["no_list_rows"].sum() == int((eligible & part["ListCost"].isna()).sum())
    assert got["committed_no_list"].sum() == int(left_out.sum())
    assert got["committed_no_list_effective"].sum() == pytest.approx(part.loc[left_out, "EffectiveCost"].sum())
    assert set(got["program"].dropna()) == {"savings_plans"}


def test_team_service_months(company) -> None:
    store, rows = company
    start, end = D0, D0 + timedelta(days=DAYS)
    part = window(rows, start, end)
    service = part["ServiceName"].fillna("").str.strip().replace("", "(no service)")
    expected: dict[tuple[date, str | None, str], float] = defaultdict(float)
    for day, value, svc, cost in zip(part["day"], part["value"], service, part["EffectiveCost"], strict=True):
        expected[(day.replace(day=1), value, svc)] += cost
    got = cq.team_service_months(store, RULES, start, end)
    found = {(m, t if isinstance(t, str) else None, s): c for m, t, s, c in got.itertuples(index=False)}
    assert found.keys() == expected.keys()
    assert [found[k] for k in expected] == pytest.approx(list(expected.values()))


def _money(value: object) -> float:
    return 0.0 if pd.isna(value) else float(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", [0.0, 0.8])
@pytest.mark.parametrize("days", [DAYS, cq.waste.MASK_DAYS, cq.waste.MASK_DAYS + 1],
                         ids=["month", "longest-masked", "counted-per-day"])
def test_weekend_running_costs_per_non_empty_environment(company, days, level) -> None:
    """The days billed come from a bit mask per resource up to MASK_DAYS and from per-day rows beyond: both
    select, from the raw rows' sums and distinct days, the resources whose weekend spend per day reaches the
    level of their weekday spend per day, largest weekend spend first."""
    store, rows = company
    end = D0 + timedelta(days=DAYS)  # the data's last day is the window's last: the mask's highest bit
    start = end - timedelta(days=days)
    part = window(rows, start, end)
    part = part[part["ChargeCategory"] == "Usage"]
    part = part.assign(env=[_tag(t, "environment") for t in part["Tags"]])
    part = part[part["env"].notna()]
    part = part.assign(weekend=[d.isoweekday() >= 6 for d in part["day"]])
    want = []
    for (resource, env), g in part.groupby(["ResourceId", "env"]):
        weekday, weekend = g[~g["weekend"]], g[g["weekend"]]
        if weekday["day"].nunique() and weekend["day"].nunique():
            per_weekday = float(weekday["EffectiveCost"].sum()) / weekday["day"].nunique()
            per_weekend = float(weekend["EffectiveCost"].sum()) / weekend["day"].nunique()
            if per_weekday > 0 and per_weekend >= level * per_weekday:
                want.append((resource, env, float(weekend["EffectiveCost"].sum())))
    want.sort(key=lambda r: (-r[2], r[0]))
    got = cq.weekend_running_costs(store, "env", ("Usage",), start, end, level)
    assert len(want) > (5 if level == 0 else 0)
    assert [(r, e) for r, _a, e, _c in got] == [(r, e) for r, e, _c in want]
    assert [c for *_, c in got] == pytest.approx([c for *_, c in want])
    assert all(a in set(part.loc[part["ResourceId"] == r, "SubAccountId"]) for r, a, _e, _c in got)


def test_account_names_and_no_trace_left_in_the_store(company) -> None:
    store, _rows = company
    assert cq.account_names(store) == {a: f"name-{a}" for a in ("A1", "A2", "A3", "A4")}
    tables = store.query("SELECT table_name FROM information_schema.tables")["table_name"].tolist()
    assert "_rules" not in tables and "_spans" not in tables  # temporary tables die with their connection


def test_without_a_store_file_the_queries_answer_empty_and_create_nothing(tmp_path) -> None:
    store = CostStore(tmp_path / "none.duckdb", TAX)
    assert cq.allocation_costs(store, RULES, D0, D0 + timedelta(days=7)) == (0.0, 0.0, 0.0)
    assert cq.sweep_data(store, RULES, D0, D0 + timedelta(days=7), ("Usage",), trend_weeks=8) is None
    assert cq.showback_costs(store, RULES, SHARED, D0, D0 + timedelta(days=7)) == []
    assert cq.anomaly_series(store, RULES).empty and cq.root_cause_contributions(store, RULES, [("total", "total", D0, D0)], 4, 3) == []
    assert all(len(col) == 0 for col in cq.anomaly_series(store, RULES, arrays=True).values())
    assert cq.commitment_usage(store, D0, D0 + timedelta(days=7), ["EC2"]).empty
    assert cq.commitment_inventory(store) is None and cq.aws_forecast(store, D0) is None
    assert cq.first_import_at(store) is None and cq.aws_anomaly_rows(store) == []
    assert not store.path.exists()
