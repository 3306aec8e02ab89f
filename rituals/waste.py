"""The waste ratio of the quarterly review: (unused commitment + spend found by documented rules over the
billing data) / total spend. The rules and their parameters are data (``[waste]`` in
``rituals/framework/kpi_bands.toml``) and each reports what it found:

- idle addresses: line items whose usage type is an idle Elastic IP address (``%IdleAddress%``);
- idle load balancers: load balancers billed for their hours with no traffic units or processed bytes;
- weekend running: non-production resources (environment tag not a production value) whose average
  weekend day costs at least ``weekend_level`` of their average weekday; their weekend spend counts;
- idle cluster nodes: the unused capacity of shared Kubernetes / ECS nodes (CUR 2.0 split cost allocation
  data: AWS's unused cost per pod, scaled to the node's amortised cost), whoever the config says pays it;
- open clean-up actions: the expected monthly savings of clean-up actions, for the days of the window
  they were open (money the organisation already knows it is wasting).

Total spend is the allocation coverage's total (EffectiveCost of the configured charge categories), so the
ratio's denominator is the same number the sweep reports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from storage import cost_queries

if TYPE_CHECKING:
    from storage.home import Home

TOP_ITEMS = 10
DAYS_A_MONTH = 365.0 / 12.0


def idle_addresses(home: Home, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    rows = cost_queries.idle_address_costs(home.costs, list(rules.get("idle_address_usage_types", [])), start, end)
    return _rule("idle_addresses", "Idle Elastic IP addresses (usage types "
                 + ", ".join(rules.get("idle_address_usage_types", [])) + ")", rows)


def idle_load_balancers(home: Home, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    rows = cost_queries.idle_load_balancer_costs(home.costs, list(rules.get("load_balancer_hour_usage_types", [])),
                                                 list(rules.get("load_balancer_traffic_usage_types", [])),
                                                 start, end)
    return _rule("idle_load_balancers", "Load balancers billed for hours with no traffic units or bytes", rows)


def weekend_running(home: Home, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    from rituals.tag_sweep import fold_value

    level = float(rules.get("weekend_level", 0.8))
    prod = {fold_value(v) for v in rules.get("production_values", ["prod"])}
    frame = cost_queries.weekday_weekend_costs(home.costs, str(rules.get("environment_key", "environment")),
                                               home.config.taxonomy.charge_categories, start, end)
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


def idle_cluster_nodes(home: Home, start: date, end: date) -> dict[str, Any]:
    rows = cost_queries.idle_node_costs(home.costs, start, end)
    return _rule("idle_cluster_nodes", "Unused capacity of shared Kubernetes / ECS nodes (split cost allocation "
                 "data)", [(node, account, cost) for node, account, cost in rows])


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
    if home.costs.exists():  # rules over billing data need billing data
        found += [idle_addresses(home, rules, start, end), idle_load_balancers(home, rules, start, end),
                  weekend_running(home, rules, start, end), idle_cluster_nodes(home, start, end)]
    found.append(open_cleanups(rules, actions, done_at, start, end))
    waste = sum(r["cost"] for r in found)
    return Measure(_r(waste / total_cost * 100.0), None,
                   {"waste_cost": _r(waste), "total_cost": _r(total_cost), "rules": found})
