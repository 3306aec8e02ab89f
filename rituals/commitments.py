"""The commitment review's figures, from billing line items with FOCUS semantics.

- **Coverage** = covered eligible usage / eligible usage, both on the on-demand equivalent (ListCost; a row
  without ListCost counts at its EffectiveCost). Eligible usage is Usage rows, other than unused commitment,
  on the services ``rituals/framework/commitment_eligibility.toml`` (or ``commitments.eligible_services``)
  lists, plus any service the data shows covered: covered rows are PricingCategory 'Committed' with
  CommitmentDiscountStatus 'Used'.
- **Utilisation** = used / (used + unused) commitment, on EffectiveCost of the Usage rows whose
  CommitmentDiscountStatus is 'Used' or 'Unused' (FOCUS puts unused commitment in Usage rows).
- **Effective savings rate** = (ListCost - EffectiveCost) / ListCost over eligible usage, the unused
  commitment counted as cost with no list value: a row without ListCost saves nothing, and paying more than
  on demand is a negative rate, shown as such.
- The **inventory** of commitment terms from the cost store's ``commitment_inventory`` (the demo, CUR 2.0
  columns and the AWS sync fill it), with what expires within 30/60/90 days.
- **AWS's own figures** (``aws_commitment_usage``, ``aws_recommendations``) when the AWS sync stored them.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from storage import cost_queries
from storage.costs import CostStore

EXPIRY_BUCKETS = (30, 60, 90)
DEFAULT_WINDOW_DAYS = 30
TERMS_HOWTO = ("Commitment terms (hourly amount, start, end) are unknown: import a CUR 2.0 export that carries "
               "its savings_plan_* and reservation_* columns (finops-tui import PATH), or run "
               "`finops-tui sync aws` with savingsplans:Describe*, ec2:DescribeReservedInstances and "
               "rds:DescribeReservedDBInstances allowed.")


# -- the eligible set and the programs (data) --------------------------------------------------------------
@dataclass(frozen=True)
class EligibleService:
    name: str
    names: tuple[str, ...]
    instruments: tuple[str, ...]
    in_coverage: bool
    usage_types: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Program:
    """A commitment program as AWS reports it (Compute Savings Plans, RDS reservations...), or a program the
    data names that the framework file does not know (``id`` then starts with ``other:``)."""
    id: str
    name: str
    instrument: str  # savings_plan / reservation
    listed: str = "committed"  # eligible: shown whenever there is usage it can cover; committed: with a commitment
    match: tuple[str, ...] = ()
    arn: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _framework() -> tuple[dict[str, Any], tuple[EligibleService, ...], tuple[Program, ...]]:
    text = resources.files("rituals").joinpath("framework", "commitment_eligibility.toml").read_text("utf-8")
    data = tomllib.loads(text)
    programs = tuple(Program(p["id"], p["name"], p["instrument"], p.get("listed", "committed"),
                             tuple(p.get("match", [])), tuple(p.get("arn", []))) for p in data["program"])
    instrument = {p.id: p.instrument for p in programs}
    services = []
    for s in data["service"]:
        unknown = [p for p in s["programs"] if p not in instrument]
        if unknown:
            raise ValueError(f"commitment_eligibility.toml: service {s['name']!r} names unknown programs {unknown}")
        services.append(EligibleService(
            s["name"], tuple(dict.fromkeys([s["name"], *s.get("names", [])])),
            tuple(dict.fromkeys(instrument[p] for p in s["programs"])), bool(s["in_coverage"]),
            tuple(s.get("usage_types", [])), tuple(s["programs"])))
    return {"version": data["version"], "source": data["source"]}, tuple(services), programs


def eligibility() -> tuple[dict[str, Any], tuple[EligibleService, ...]]:
    """The framework file's header (version, source) and its services."""
    meta, services, _programs = _framework()
    return meta, services


def programs() -> tuple[Program, ...]:
    """The commitment programs the framework file knows, in the order the review lists them."""
    return _framework()[2]


def usage_rules() -> dict[str, tuple[str, ...]]:
    """Every known ServiceName spelling -> the parts of a usage type a commitment can cover (empty: any)."""
    return {n: s.usage_types for s in eligibility()[1] for n in s.names}


def chosen_services(configured: tuple[str, ...] = ()) -> list[EligibleService]:
    """The services in the coverage denominator: ``configured`` (config ``commitments.eligible_services``)
    when given, a name the file knows bringing all its spellings; else the file's ``in_coverage`` set."""
    _meta, known = eligibility()
    if not configured:
        return [s for s in known if s.in_coverage]
    by_spelling = {n.lower(): s for s in known for n in s.names}
    return list(dict.fromkeys(by_spelling.get(n.lower()) or EligibleService(n, (n,), ("savings_plan", "reservation"),
                                                                            True) for n in configured))


def eligible_services(configured: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Every ServiceName spelling counted as eligible -> the instruments that can cover it."""
    return {n: s.instruments for s in chosen_services(configured) for n in s.names}


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def program_of(commitment_id: str, texts: list[str], instrument: str, services: set[str]) -> Program:
    """The program of one commitment: a Savings Plan by the words its type, name or description carry; a
    reservation by its ARN, else by the one reservation program of the services it covers; otherwise a
    program of its own, named for those services (other providers' commitments, types the data omits)."""
    known = programs()
    if instrument == "savings_plan":
        words = _squash(" ".join([commitment_id, *texts]))
        hits = sorted(((len(m), p) for p in known if p.instrument == instrument for m in p.match
                       if _squash(m) in words), key=lambda hit: -hit[0])
        if hits:
            return hits[0][1]
    else:
        lowered = commitment_id.lower()
        arn = [p for p in known if p.instrument == instrument and any(a in lowered for a in p.arn)]
        if arn:
            return arn[0]
        by_spelling = {n: s for s in eligibility()[1] for n in s.names}
        ids = {pid for svc in services for pid in (by_spelling[svc].programs if svc in by_spelling else ())}
        mine = [p for p in known if p.id in ids and p.instrument == instrument]
        if len(mine) == 1:
            return mine[0]
    named = ", ".join(sorted(s or "(no service name)" for s in services)) or "(no usage)"
    kind = "Savings Plans" if instrument == "savings_plan" else "Commitments"
    return Program(f"other:{instrument}:{named}", f"{kind}: {named}", instrument)


# -- pure arithmetic ----------------------------------------------------------------------------------------
def share_pct(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or whole <= 0:
        return None
    return part / whole * 100.0


def utilization_pct(used: float, unused: float) -> float | None:
    """Used / (used + unused) commitment, None when nothing was committed."""
    return share_pct(used, used + unused)


def effective_savings_rate_pct(list_cost: float | None, effective_cost: float) -> float | None:
    """(ListCost - EffectiveCost) / ListCost. A missing ListCost means no known saving (the effective cost
    stands in for it), and no list value at all gives None rather than a division error."""
    basis = effective_cost if list_cost is None or list_cost != list_cost else list_cost
    if basis <= 0:
        return None
    return (basis - effective_cost) / basis * 100.0


# -- the line-item query --------------------------------------------------------------------------------------
def usage_frame(store: CostStore, start: date, end: date, eligible: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """Usage per day, service, account and commitment for ``start <= day < end``: eligible and covered
    on-demand equivalent, their effective cost, used and unused commitment (plain rows,
    ``cost_queries.commitment_usage_rows``; empty when there are none)."""
    return cost_queries.commitment_usage_rows(store, start, end, eligible, usage_rules())


def commitment_texts(store: CostStore) -> dict[str, list[str]]:
    """Commitment id -> the type and description its stored terms give (they name the program)."""
    terms = cost_queries.commitment_inventory(store)
    if terms is None:
        return {}
    return {str(r["commitment_id"]): [str(r[c]) for c in ("type", "description") if r.get(c) is not None]
            for r in terms}


# -- the figures ----------------------------------------------------------------------------------------------
@dataclass
class Figures:
    start: date
    end: date
    eligible_cost: float = 0.0
    covered_cost: float = 0.0
    eligible_effective_cost: float = 0.0
    used_commitment_cost: float = 0.0
    unused_commitment_cost: float = 0.0
    rows_without_list_cost: int = 0
    committed_rows_without_list_cost: int = 0
    committed_without_list_effective_cost: float = 0.0
    daily: list[dict[str, Any]] = field(default_factory=list)
    by_service: list[dict[str, Any]] = field(default_factory=list)
    by_account: list[dict[str, Any]] = field(default_factory=list)
    by_commitment: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_program: dict[str, dict[str, float | None]] = field(default_factory=dict)
    programs: list[dict[str, Any]] = field(default_factory=list)
    commitment_ids: list[str] = field(default_factory=list)

    @property
    def coverage_pct(self) -> float | None:
        return share_pct(self.covered_cost, self.eligible_cost)

    @property
    def utilization_pct(self) -> float | None:
        return utilization_pct(self.used_commitment_cost, self.unused_commitment_cost)

    @property
    def effective_savings_rate_pct(self) -> float | None:
        if self.eligible_cost <= 0:
            return None
        return effective_savings_rate_pct(self.eligible_cost,
                                          self.eligible_effective_cost + self.unused_commitment_cost)

    @property
    def eligible_service_names(self) -> list[str]:
        """The services in the coverage denominator this window, largest first."""
        return [r["service"] for r in self.by_service if r["line"] == "usage" and r["eligible"] > 0]


Rows = list[dict[str, Any]]  # usage_frame's rows


def _total(rows: Rows, column: str) -> float:
    return math.fsum(r[column] for r in rows)


def _sums(rows: Rows, key: str, columns: tuple[str, ...]) -> dict[Any, dict[str, float]]:
    """Per value of ``key`` (in order of first appearance), the sums of ``columns``."""
    parts: dict[Any, dict[str, list[float]]] = {}
    for r in rows:
        part = parts.get(r[key])
        if part is None:
            part = parts[r[key]] = {c: [] for c in columns}
        for c in columns:
            part[c].append(r[c])
    return {k: {c: math.fsum(v) for c, v in part.items()} for k, part in parts.items()}


def day_sums(rows: Rows, column: str) -> dict[date, float]:
    """Per day, the sum of ``column`` over ``rows``."""
    return {day: g[column] for day, g in _sums(rows, "day", (column,)).items()}


def _by_day(part: Rows) -> list[dict[str, Any]]:
    """Per day (ascending), eligible, covered, used and unused, with coverage and utilisation; days where all
    of eligible, used and unused are 0 are left out."""
    out = []
    for day, g in sorted(_sums(part, "day", ("eligible", "covered", "used", "unused")).items()):
        if g["eligible"] != 0 or g["used"] != 0 or g["unused"] != 0:
            out.append({"day": day, **g, "coverage_pct": share_pct(g["covered"], g["eligible"]),
                        "utilization_pct": utilization_pct(g["used"], g["unused"])})
    return out


def _usage_lines(part: Rows, key: str) -> list[dict[str, Any]]:
    """Eligible usage per ``key``: on demand, covered and the commitment it used. Unused commitment belongs
    to its commitment (``_unused_lines``), not to the service or account it was booked under."""
    groups = [(k, g) for k, g in _sums(part, key, ("eligible", "covered", "used")).items()
              if g["eligible"] != 0 or g["used"] != 0]
    groups.sort(key=lambda kg: (-kg[1]["eligible"], kg[0]))
    return [{key: k, "line": "usage", "commitment_id": None, "eligible": g["eligible"], "covered": g["covered"],
             "used": g["used"], "unused": 0.0, "coverage_pct": share_pct(g["covered"], g["eligible"]),
             "utilization_pct": None}
            for k, g in groups]


def commitment_label(commitment_id: str, name: str | None = None) -> str:
    """A short name for a commitment: its name, else the last part of its id."""
    if name:
        return name
    tail = commitment_id.replace(":", "/").rstrip("/").rsplit("/", 1)[-1]
    return tail or commitment_id


def _window(rows: Rows, start: date, end: date) -> Rows:
    return [r for r in rows if start <= r["day"] < end]


def _totals(part: Rows, start: date, end: date) -> Figures:
    fig = Figures(start, end)
    if not part:
        return fig
    fig.eligible_cost = _total(part, "eligible")
    fig.covered_cost = _total(part, "covered")
    fig.eligible_effective_cost = _total(part, "eligible_effective")
    fig.used_commitment_cost = _total(part, "used")
    fig.unused_commitment_cost = _total(part, "unused")
    fig.rows_without_list_cost = sum(int(r["no_list_rows"]) for r in part)
    fig.committed_rows_without_list_cost = sum(int(r["committed_no_list"]) for r in part)
    fig.committed_without_list_effective_cost = _total(part, "committed_no_list_effective")
    return fig


def totals_from(frame: Rows, start: date, end: date) -> Figures:
    """The headline sums of ``usage_frame`` rows for ``start <= day < end`` (eligible and covered cost,
    used and unused commitment, the rows without a ListCost) and so the coverage, utilisation and savings
    rate: the figures ``figures_from`` starts from, without the breakdowns (day, service, account,
    commitment, program), which are empty here. The quarterly KPIs and the month's coverage item read
    these; the commitment review reads ``figures_from``."""
    return _totals(_window(frame, start, end), start, end)


def _first(rows: Rows, column: str) -> str | None:
    """The first value of ``column`` that is not NULL, as text."""
    return next((str(r[column]) for r in rows if r[column] is not None), None)


def figures_from(frame: Rows, start: date, end: date, eligible: dict[str, tuple[str, ...]],
                 texts: dict[str, list[str]] | None = None) -> Figures:
    """The figures of ``usage_frame`` rows for ``start <= day < end``. ``texts`` (``commitment_texts``) add
    what the stored terms say about each commitment, which names its program."""
    part = _window(frame, start, end)
    fig = _totals(part, start, end)
    if not part:
        return fig
    fig.daily = _by_day(part)

    committed = [r for r in part if r["commitment_id"] is not None]
    by_id: dict[str, Rows] = {}
    for r in committed:
        by_id.setdefault(str(r["commitment_id"]), []).append(r)
    for cid in sorted(by_id):
        g = by_id[cid]
        name = _first(g, "commitment_name")
        kind = _first(g, "program") or "reservations"
        extra = [*dict.fromkeys(str(r["commitment_type"]) for r in g if r["commitment_type"] is not None),
                 *([name] if name else [])]
        # The services it covers; a commitment that covered nothing is known by where its unused part is booked.
        services = {r["service"] for r in g if r["used"] != 0 or r["covered"] != 0} or {
            r["service"] for r in g if r["unused"] != 0}
        program = program_of(cid, [*extra, *(texts or {}).get(cid, [])],
                             "savings_plan" if kind == "savings_plans" else "reservation", services)
        unused_rows = [r for r in g if r["unused"] != 0]
        fig.by_commitment[cid] = {
            "used": _total(g, "used"), "unused": _total(g, "unused"), "covered": _total(g, "covered"),
            "label": commitment_label(cid, name), "program": program,
            "account": str((unused_rows or g)[0]["account"]), "account_name": _first(g, "account_name")}
    fig.commitment_ids = sorted(fig.by_commitment)

    names: dict[Any, Any] = {}
    for r in part:  # each account's first name that is not NULL
        if r["account_name"] is not None:
            names.setdefault(r["account"], r["account_name"])
    fig.by_service = _usage_lines(part, "service") + _unused_lines(fig, "service")
    fig.by_account = _usage_lines(part, "account") + _unused_lines(fig, "account")
    for row in fig.by_account:
        row.setdefault("account_name", names.get(row["account"]))
    fig.programs = _programs(part, fig)
    for coarse, instrument in (("savings_plans", "savings_plan"), ("reservations", "reservation")):
        mine = [r for r in committed if r["program"] == coarse]
        services = {n for n, inst in eligible.items() if instrument in inst} | {r["service"] for r in mine}
        base = [r for r in part if r["service"] in services]
        fig.by_program[coarse] = {
            "coverage_pct": share_pct(_total(mine, "covered"), _total(base, "eligible")),
            "utilization_pct": utilization_pct(_total(mine, "used"), _total(mine, "unused"))}
    return fig


def _unused_lines(fig: Figures, key: str) -> list[dict[str, Any]]:
    """One line per commitment left partly unused: the unused amount, attributed to the commitment (by
    service: under its label; by account: under the account that holds it)."""
    out = []
    for cid in sorted(fig.by_commitment, key=lambda c: (-fig.by_commitment[c]["unused"], c)):
        c = fig.by_commitment[cid]
        if c["unused"] == 0:
            continue
        row: dict[str, Any] = {key: f"unused: {c['label']}" if key == "service" else c["account"],
                               "line": "unused_commitment", "commitment_id": cid, "program": c["program"].name,
                               "eligible": 0.0, "covered": 0.0, "used": 0.0, "unused": c["unused"],
                               "coverage_pct": None, "utilization_pct": utilization_pct(c["used"], c["unused"])}
        if key == "account":
            row["account_name"] = f"unused: {c['label']}"
        out.append(row)
    return out


def _programs(part: Rows, fig: Figures) -> list[dict[str, Any]]:
    """Coverage and utilisation per program, as AWS reports them: each program's eligible usage is the
    usage it can cover that no other program's commitment covers, on the on-demand equivalent."""
    of: dict[str, Program] = {cid: c["program"] for cid, c in fig.by_commitment.items()}
    known = {p.id: p for p in programs()}
    order = [*known]
    found: dict[str, Program] = {}
    for p in of.values():
        if p.id not in known and p.id not in found:
            found[p.id] = p
    order += sorted(found, key=lambda pid: found[pid].name)
    by_spelling = {n: s for s in eligibility()[1] for n in s.names}
    row_program = [of[str(c)].id if isinstance(c, str) and str(c) in of else None
                   for c in (r["commitment_id"] for r in part)]
    out = []
    for pid in order:
        p = known.get(pid) or found[pid]
        mine = [r for r, rp in zip(part, row_program, strict=True) if rp == pid]
        services = {n for n, s in by_spelling.items() if pid in s.programs} | {
            r["service"] for r in mine if r["covered"] != 0 or r["unused"] != 0}
        if pid not in known:
            services |= {r["service"] for r in mine}
        base = [r for r, rp in zip(part, row_program, strict=True)
                if r["service"] in services and (rp is None or rp == pid)]
        eligible_cost, covered_cost = _total(base, "candidate"), _total(mine, "covered")
        used, unused = _total(mine, "used"), _total(mine, "unused")
        count = sum(1 for q in of.values() if q.id == pid)
        if not count and not (p.listed == "eligible" and eligible_cost > 0):
            continue
        out.append({"id": pid, "program": p.name, "instrument": p.instrument, "commitments": count,
                    "eligible_cost": eligible_cost, "covered_cost": covered_cost,
                    "coverage_pct": share_pct(covered_cost, eligible_cost),
                    "used_commitment_cost": used, "unused_commitment_cost": unused,
                    "utilization_pct": utilization_pct(used, unused)})
    return out


def coverage_basis(fig: Figures) -> str:
    """What the headline coverage divides by, in words."""
    services = fig.eligible_service_names
    if not services:
        return "No commitment-eligible usage in the window."
    return ("Savings Plans and reservations together: covered usage / all commitment-eligible usage, on the "
            f"on-demand equivalent, of {', '.join(s or '(no service name)' for s in services)}.")


def warnings(fig: Figures, currency: str) -> list[str]:
    """What the figures had to leave out, in words."""
    out = []
    n = fig.committed_rows_without_list_cost
    if n:
        out.append(f"{n} commitment-covered row{'s' if n != 1 else ''} without a ListCost (0 or empty) "
                   f"{'are' if n != 1 else 'is'} left out of coverage: no on-demand equivalent to compare "
                   f"(their EffectiveCost {fig.committed_without_list_effective_cost:,.2f} {currency}).")
    return out


# -- inventory and expiries ------------------------------------------------------------------------------------
def inventory(store: CostStore, today: date, figures: Figures | None = None) -> list[dict[str, Any]]:
    """The stored commitment terms, soonest end first, with days left, expiry bucket and the window's
    utilisation of each."""
    terms = cost_queries.commitment_inventory(store)
    if terms is None:
        return []
    out = []
    for row in terms:
        end = row["end_date"].date() if hasattr(row["end_date"], "date") else row["end_date"]
        start = row["start_date"].date() if hasattr(row["start_date"], "date") else row["start_date"]
        left = (end - today).days if end is not None else None
        usage = (figures.by_commitment.get(row["commitment_id"]) if figures else None) or {}
        texts = [str(row[c]) for c in ("type", "description") if row.get(c)]
        program = usage.get("program") or program_of(
            str(row["commitment_id"]), texts,
            "savings_plan" if "savings" in " ".join([str(row["commitment_id"]), *texts]).lower() else "reservation",
            set())
        out.append({**row, "program": program.name, "start_date": start, "end_date": end, "days_left": left,
                    "active": (start is None or start <= today) and (end is None or today < end),
                    "expires_within_days": next((b for b in EXPIRY_BUCKETS if left is not None and 0 <= left <= b),
                                                None),
                    "utilization_pct": utilization_pct(usage.get("used", 0.0), usage.get("unused", 0.0))})
    return out


def expiring(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["expires_within_days"] is not None]


# -- AWS's own figures, when synced ---------------------------------------------------------------------------
def aws_figures(store: CostStore, start: date, end: date, figures: Figures) -> dict[str, Any] | None:
    """AWS's coverage and utilisation per program over the window beside ours, and its recommendations;
    None when the AWS sync has not stored them."""
    usage = cost_queries.aws_commitment_usage(store, start, end)
    if usage is None:
        return None
    rows = []
    for r in usage:
        theirs = share_pct(r["num"], r["den"])
        ours = figures.by_program.get(r["program"], {}).get(f"{r['measure']}_pct")
        rows.append({"program": r["program"], "measure": r["measure"], "aws_pct": theirs, "ours_pct": ours,
                     "difference_pts": None if theirs is None or ours is None else ours - theirs,
                     "unit": r["unit"]})
    recs = cost_queries.aws_recommendations(store) or []
    return {"figures": rows, "recommendations": recs}


def hub_purchases(store: CostStore) -> list[dict[str, Any]]:
    """Cost Optimization Hub's purchase recommendations (Savings Plans, reserved instances), synced or from
    a Data Exports file: shown beside AWS's Savings Plans recommendation, never in the inbox."""
    out = []
    for r in cost_queries.optimization_purchases(store) or []:
        out.append({"source": r["source"], "recommendation_id": r["recommendation_id"],
                    "action_type": r["action_type"], "account_id": r["account_id"], "region": r["region"],
                    "resource_type": r["resource_type"], "recommended": r["recommended_summary"],
                    "estimated_monthly_savings": float(r["estimated_monthly_savings"] or 0.0),
                    "currency": r["currency"], "lookback_days": r["lookback_days"]})
    return out


def default_window(today: date, days: int = DEFAULT_WINDOW_DAYS) -> tuple[date, date]:
    """The 30 days before today: ``[today - 30, today)``."""
    return today - timedelta(days=days), today
