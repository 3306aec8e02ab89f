"""One closed run of each of the five rituals on the demo company, held through the run session with a
clock fixed to the minute, with notes, decisions, actions and a triage note carrying hostile text: what
the golden minutes tests render."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from storage.clock import Clock
from storage.home import Home

# Terminal escapes, HTML, and markdown that would open a heading, list, quote, fence, link or table.
HOSTILE = ("# Not a heading | pipe `tick` <script>alert(1)</script>\x1b[31m red\x1b[0m\x07\n"
           "- not a list\n1. not ordered\n    not code\n===\n[click](javascript:alert(1)) ![img](x.png) "
           "*bold* _em_ ~~del~~ $x$ &amp; \\ end [bold] 61.3% of a_b < c\n\n> not a quote\n```\nfence")
HOSTILE_LINE = "Cut <b>NAT</b> | `egress` [link](http://x) *now*"


class MinuteClock(Clock):
    """Today fixed, and the time of day too (10:00 UTC), so the minutes' times are the same every run."""

    def now(self) -> datetime:
        assert self.today_override is not None
        return datetime.combine(self.today_override, time(10), UTC)


def hold_runs(src: Path, dst: Path, today: date) -> tuple[Home, dict[str, int]]:
    """Copy the demo home ``src`` to ``dst`` and close one run of every ritual there; their ids by kind."""
    from sqlmodel import select

    from rituals.anomaly_cases import set_status
    from rituals.ritual import RITUALS
    from rituals.session import RunSession
    from storage.records import AnomalyCase, Person

    shutil.copytree(src, dst)
    home = Home(dst, clock_override=MinuteClock(today))
    with home.records.session() as s:
        people = {p.handle: int(p.id or 0) for p in s.exec(select(Person))}
    ids: dict[str, int] = {}
    for ritual in RITUALS:
        session = RunSession(home, ritual.kind, facilitator="priya")
        session.open()
        session.set_attendees(["priya", "marcus", "ghost_[x]"])
        first, *rest = [s.id for s in ritual.steps]
        session.save_note(first, HOSTILE)
        for step in rest[:1]:
            session.save_note(step, f"Looked at {step.replace('_', ' ')}: 61.3% is fine.\nSecond line.")
        session.save_note("decisions", "Agreed in the room.")
        session.add_decision(HOSTILE_LINE, first)
        session.add_action(title="Fix | tags `now` <script>", owner_id=people["marcus"],
                           due_date=today + timedelta(days=14), kind="other")
        findings = session.findings()
        if ritual.kind == "anomaly_triage":
            with home.records.session() as s:
                case = s.exec(select(AnomalyCase).where(AnomalyCase.status == "new")
                              .order_by(AnomalyCase.start.desc(), AnomalyCase.id)).first()  # type: ignore[attr-defined]
            assert case is not None
            set_status(home.records, case.id, "investigating", now=home.clock.now(), actor_id=people["priya"],
                       note="Owner asked; <img src=x onerror=alert(1)> looks like a batch job.\n- rerun")
            findings = session.findings()
        if ritual.kind == "commitment_review":
            session.add_decision("Buy a compute Savings Plan", "decision", detail={
                "kind": "commitment", "choice": "buy", "hourly_amount": 2.5, "currency": "USD", "term_years": 1,
                "payment_option": "No Upfront", "approver": "marcus", "rationale": "Steady base | *sure*"})
        session.close(findings)
        ids[ritual.kind] = session.run_id
    return home, ids
