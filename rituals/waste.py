"""The waste / idle ratio of the quarterly review, for the quarter's last complete month:

    (unused commitment cost + spend found by the waste rules + monthly savings of the open inbox
     recommendations on resources no rule found) / spend

The rules and their parameters are data (``[waste]`` in ``rituals/framework/kpi_bands.toml``) and each
reports what it found:

- idle addresses: line items whose usage type is an idle Elastic IP address (``%IdleAddress%``);
- idle load balancers: load balancers billed for their hours with no traffic units or processed bytes;
- weekend running: non-production resources (environment tag not a production value) whose average
  weekend day costs at least ``weekend_level`` of their average weekday; their weekend spend counts;
- idle cluster nodes: the unused capacity of shared Kubernetes / ECS nodes (CUR 2.0 split cost allocation
  data: AWS's unused cost per pod, scaled to the node's amortised cost), whoever the config says pays it;
- open inbox: the estimated monthly savings of the recommendations open in the inbox today (any source),
  leaving out the resources a rule above already counted, so nothing is counted twice.

Spend is the allocation coverage's total (EffectiveCost of the configured charge categories) over the same
month, so the ratio's denominator is the same number the sweep reports for it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from storage import cost_queries

if TYPE_CHECKING:
    from storage.home import Home

TOP_ITEMS = 10


def idle_addresses(home: Home, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    return _rule(*_idle_addresses(home, rules, start, end))


def _idle_addresses(home: Home, rules: dict[str, Any], start: date, end: date) -> tuple[str, str, list[Any]]:
    rows = cost_queries.idle_address_costs(home.costs, list(rules.get("idle_address_usage_types", [])), start, end)
    return ("idle_addresses", "Idle Elastic IP addresses (usage types "
                 + ", ".join(rules.get("idle_address_usage_types", [])) + ")", rows)


def idle_load_balancers(home: Home, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    return _rule(*_idle_load_balancers(home, rules, start, end))


def _idle_load_balancers(home: Home, rules: dict[str, Any], start: date, end: date) -> tuple[str, str, list[Any]]:
    rows = cost_queries.idle_load_balancer_costs(home.costs, list(rules.get("load_balancer_hour_usage_types", [])),
                                                 list(rules.get("load_balancer_traffic_usage_types", [])),
                                                 start, end)
    return ("idle_load_balancers", "Load balancers billed for hours with no traffic units or bytes", rows)


def weekend_running(home: Home, rules: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    return _rule(*_weekend_running(home, rules, start, end))


def _weekend_running(home: Home, rules: dict[str, Any], start: date, end: date) -> tuple[str, str, list[Any]]:
    from rituals.tag_sweep import fold_value

    level = float(rules.get("weekend_level", 0.8))
    prod = {fold_value(v) for v in rules.get("production_values", ["prod"])}
    rows = cost_queries.weekend_running_costs(home.costs, str(rules.get("environment_key", "environment")),
                                              home.config.taxonomy.charge_categories, start, end, level)
    return ("weekend_running", f"Non-production resources running through weekends at >= {level:.0%} of "
            "their weekday level (their weekend spend)", non_production(rows, prod))


def non_production(rows: list[tuple[Any, ...]], prod: set[str]) -> list[tuple[Any, Any, float]]:
    """(resource, account, weekend cost) of the rows of ``weekend_running_costs`` whose environment value
    does not fold to a production one, in the rows' order (each distinct value folded once)."""
    from rituals.tag_sweep import fold_value

    folded: dict[Any, bool] = {}
    out = []
    for resource, account, env, weekend_cost in rows:
        is_prod = folded.get(env)
        if is_prod is None:
            is_prod = folded[env] = fold_value(str(env)) in prod
        if not is_prod:
            out.append((resource, account, float(weekend_cost or 0.0)))
    return out


def idle_cluster_nodes(home: Home, start: date, end: date) -> dict[str, Any]:
    return _rule(*_idle_cluster_nodes(home, {}, start, end))


def _idle_cluster_nodes(home: Home, rules: dict[str, Any], start: date, end: date) -> tuple[str, str, list[Any]]:
    rows = cost_queries.idle_node_costs(home.costs, start, end)
    return ("idle_cluster_nodes", "Unused capacity of shared Kubernetes / ECS nodes (split cost allocation "
            "data)", [(node, account, cost) for node, account, cost in rows])


def _rule(rule: str, title: str, rows: list[tuple[Any, Any, float]]) -> dict[str, Any]:
    cost = sum(float(c or 0.0) for _, _, c in rows)
    items = [{"item": i, "account_id": a, "cost": round(float(c or 0.0), 2)} for i, a, c in rows[:TOP_ITEMS]]
    return {"rule": rule, "title": title, "found": len(rows), "cost": round(cost, 6),
            "summary": f"found {len(rows)}" + (f", {cost:,.2f}" if rows else " (nothing)"), "items": items}


FORMULA = ("(unused commitment cost + spend found by the waste rules + monthly savings of open inbox "
           "recommendations on resources no rule found) / spend, for {month}")


def waste_for(home: Home, rules: dict[str, Any], start: date, end: date, total_cost: float, unused: float,
              inbox_open: list[tuple[str, str, str | None, float]]) -> Any:
    """The waste ratio's Measure for the month ``start <= day < end`` (None when there is no spend);
    ``inbox_open``: (label, resource id, account, monthly saving) of the open inbox recommendations."""
    from rituals.kpis import Measure, _r
    from rituals.recommendations import bare_resource_id

    formula = FORMULA.format(month=f"{start:%Y-%m}")
    if total_cost is None or total_cost <= 0:
        return Measure(None, f"no spend in {start:%Y-%m}, the quarter's last complete month")
    found = [{"rule": "unused_commitment", "title": "Unused commitment (amortised, from the commitment figures)",
              "found": int(abs(unused) > 1e-9), "cost": round(float(unused), 6),
              "summary": f"{unused:,.2f}" if unused else "found nothing", "items": []}]
    found_ids: list[Any] = []
    if home.costs.exists():  # rules over billing data need billing data
        for rule in (_idle_addresses, _idle_load_balancers, _weekend_running, _idle_cluster_nodes):
            name, title, rows = rule(home, rules, start, end)
            found_ids.extend(r[0] for r in rows if r[0])
            found.append(_rule(name, title, rows))
    # Only an open recommendation is compared with what the rules found (tens of thousands of resources).
    counted = {bare_resource_id(str(i)) for i in found_ids} if inbox_open else set()
    rows = [(label, account, saving) for label, rid, account, saving in inbox_open
            if bare_resource_id(rid) not in counted]
    rows.sort(key=lambda t: (-t[2], t[0]))
    found.append(_rule("open_inbox", "Monthly savings of open inbox recommendations (resources no rule above "
                       f"counted; {len(inbox_open) - len(rows)} left out as already counted)", rows))
    waste = sum(r["cost"] for r in found)
    return Measure(_r(waste / total_cost * 100.0), None,
                   {"waste_cost": _r(waste), "total_cost": _r(total_cost), "month": f"{start:%Y-%m}",
                    "formula": formula, "rules": found})
