"""The waste ratio of the quarterly review: (unused commitment + spend found by documented rules over the
billing data) / total spend. The rules and their parameters are data (``[waste]`` in
``rituals/framework/kpi_bands.toml``) and each reports what it found:

- idle addresses: line items whose usage type is an idle Elastic IP address (``%IdleAddress%``);
- idle load balancers: load balancers billed for their hours with no traffic units or processed bytes;
- weekend running: non-production resources (environment tag not a production value) whose average
  weekend day costs at least ``weekend_level`` of their average weekday; their weekend spend counts;
- open clean-up actions: the expected monthly savings of clean-up actions, for the days of the window
  they were open (money the organisation already knows it is wasting).

Total spend is the allocation coverage's total (EffectiveCost of the configured charge categories), so the
ratio's denominator is the same number the sweep reports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from storage.costs import sql_string

if TYPE_CHECKING:
    from storage.home import Home

TOP_ITEMS = 10
DAYS_A_MONTH = 365.0 / 12.0


def _like_any(column: str, patterns: list[str]) -> str:
    return "(" + " OR ".join(f"{column} ILIKE {sql_string(p)}" for p in patterns) + ")" if patterns else "false"


def idle_addresses(con: Any, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    rows = con.execute(
        f"SELECT ResourceId AS resource_id, SubAccountId AS account_id, sum(EffectiveCost) AS cost FROM line_items "
        f"WHERE charge_date >= ? AND charge_date < ? AND "
        f"{_like_any('x_UsageType', list(rules.get('idle_address_usage_types', [])))} GROUP BY 1, 2 "
        f"ORDER BY 3 DESC, 1", [start, end]).fetchall()
    return _rule("idle_addresses", "Idle Elastic IP addresses (usage types "
                 + ", ".join(rules.get("idle_address_usage_types", [])) + ")", rows)


def idle_load_balancers(con: Any, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    hours = _like_any("x_UsageType", list(rules.get("load_balancer_hour_usage_types", [])))
    traffic = _like_any("x_UsageType", list(rules.get("load_balancer_traffic_usage_types", [])))
    rows = con.execute(
        f"SELECT ResourceId AS resource_id, any_value(SubAccountId) AS account_id, "
        f"sum(EffectiveCost) FILTER (WHERE {hours}) AS cost FROM line_items "
        f"WHERE charge_date >= ? AND charge_date < ? AND ({hours} OR {traffic}) AND ResourceId IS NOT NULL "
        f"GROUP BY 1 HAVING count(*) FILTER (WHERE {traffic}) = 0 ORDER BY 3 DESC, 1", [start, end]).fetchall()
    return _rule("idle_load_balancers", "Load balancers billed for hours with no traffic units or bytes", rows)


def weekend_running(home: Home, con: Any, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    from rituals.tag_sweep import fold_value

    env = home.costs.tag_expr(con, str(rules.get("environment_key", "environment")))
    level = float(rules.get("weekend_level", 0.8))
    prod = {fold_value(v) for v in rules.get("production_values", ["prod"])}
    cats = ", ".join(sql_string(c) for c in home.config.taxonomy.charge_categories)
    frame = con.execute(
        f"SELECT ResourceId AS resource_id, any_value(SubAccountId) AS account_id, {env} AS env, "
        f"sum(EffectiveCost) FILTER (WHERE isodow(charge_date) < 6) AS weekday_cost, "
        f"count(DISTINCT charge_date) FILTER (WHERE isodow(charge_date) < 6) AS weekdays, "
        f"sum(EffectiveCost) FILTER (WHERE isodow(charge_date) >= 6) AS weekend_cost, "
        f"count(DISTINCT charge_date) FILTER (WHERE isodow(charge_date) >= 6) AS weekend_days "
        f"FROM line_items WHERE charge_date >= ? AND charge_date < ? AND ChargeCategory IN ({cats}) "
        f"AND ResourceId IS NOT NULL AND {env} IS NOT NULL GROUP BY 1, 3", [start, end]).df()
    rows = []
    for r in frame.itertuples(index=False):
        if fold_value(str(r.env)) in prod or not r.weekdays or not r.weekend_days:
            continue
        weekday = float(r.weekday_cost or 0.0) / r.weekdays
        weekend = float(r.weekend_cost or 0.0) / r.weekend_days
        if weekday > 0 and weekend >= level * weekday:
            rows.append((r.resource_id, r.account_id, float(r.weekend_cost)))
    rows.sort(key=lambda t: (-t[2], t[0]))
    return _rule("weekend_running", f"Non-production resources running through weekends at >= {level:.0%} of "
                 "their weekday level (their weekend spend)", rows)


def open_cleanups(rules: dict[str, Any], actions: list[Any], done_at: dict[int, datetime], start: date,
                  end: date) -> dict[str, Any]:
    kinds = set(rules.get("cleanup_action_kinds", ["cleanup"]))
    lo, hi = datetime.combine(start, time(0), UTC), datetime.combine(end, time(0), UTC)
    rows = []
    for a in actions:
        if a.kind not in kinds or not a.expected_monthly_savings or a.created_at is None:
            continue
        finished = None if a.status in ("open", "in_progress", "blocked") else done_at.get(a.id, a.updated_at)
        open_from, open_to = max(a.created_at, lo), min(finished or hi, hi)
        days = (open_to - open_from).total_seconds() / 86400.0
        if days > 0:
            rows.append((f"#{a.id} {a.title}", None, float(a.expected_monthly_savings) * days / DAYS_A_MONTH))
    rows.sort(key=lambda t: (-t[2], t[0]))
    return _rule("open_cleanup_actions", "Expected savings of clean-up actions while they were open", rows)


def _rule(rule: str, title: str, rows: list[tuple[Any, Any, float]]) -> dict[str, Any]:
    cost = sum(float(c or 0.0) for _, _, c in rows)
    items = [{"item": i, "account_id": a, "cost": round(float(c or 0.0), 2)} for i, a, c in rows[:TOP_ITEMS]]
    return {"rule": rule, "title": title, "found": len(rows), "cost": round(cost, 6),
            "summary": f"found {len(rows)}" + (f", {cost:,.2f}" if rows else " (nothing)"), "items": items}


def waste_for(home: Home, rules: dict[str, Any], start: date, end: date, total_cost: float, unused: float,
              actions: list[Any], done_at: dict[int, datetime]) -> Any:
    """The waste ratio's Measure for ``start <= day < end`` (None when there is no spend)."""
    from rituals.kpis import Measure, _r

    if total_cost is None or total_cost <= 0:
        return Measure(None, "no spend in the quarter")
    found = [{"rule": "unused_commitment", "title": "Unused commitment (amortised, from the commitment figures)",
              "found": int(abs(unused) > 1e-9), "cost": round(float(unused), 6),
              "summary": f"{unused:,.2f}" if unused else "found nothing", "items": []}]
    with home.costs.reader() as con:
        if con is not None:
            found += [idle_addresses(con, rules, start, end), idle_load_balancers(con, rules, start, end),
                      weekend_running(home, con, rules, start, end)]
    found.append(open_cleanups(rules, actions, done_at, start, end))
    waste = sum(r["cost"] for r in found)
    return Measure(_r(waste / total_cost * 100.0), None,
                   {"waste_cost": _r(waste), "total_cost": _r(total_cost), "rules": found})
