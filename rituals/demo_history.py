"""The demo company's past meetings, held for real: each is opened, noted, decided and closed through the
run session on its own day (a home whose clock says that day), so every frozen number is the ritual's
own finding for that window and the minutes read like any other run's.

Eight weekly sweeps (one week missed), the monthly reviews of the three months before last (last
month's review is due) and one commitment review. The actions those meetings created then move to where
they stand today (``storage.sources.demo_records.HISTORY_ACTIONS``: some done, some overdue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from rituals.calendar import add_months, month_period, week_period
from rituals.definitions.commitment_review import KIND as COMMITMENT_REVIEW
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP
from rituals.session import RunSession

if TYPE_CHECKING:
    from storage.home import Home
    from storage.sources.demo import DemoTruth
    from storage.sources.demo_records import HistoryAction

FACILITATOR = "priya"
MISSED_WEEK = 3
REVIEW_ATTENDEES = ["priya", "marcus", "dana", "tomas", "aisha", "kenji", "lena", "ravi", "sofia", "jonah"]


@dataclass(frozen=True)
class Meeting:
    key: str  # what HISTORY_ACTIONS' ``run`` names
    kind: str
    period: str
    day: date
    attendees: list[str]
    notes: dict[str, str] = field(default_factory=dict)
    decisions: list[tuple[str, str]] = field(default_factory=list)  # (step, text)
    options: dict[str, object] = field(default_factory=dict)


def meetings(as_of: date) -> list[Meeting]:
    """The demo's past meetings, oldest first."""
    out: list[Meeting] = []
    this_monday = as_of - timedelta(days=as_of.weekday())
    for back in range(8, 0, -1):
        if back == MISSED_WEEK:
            continue
        monday = this_monday - timedelta(days=7 * back)
        out.append(Meeting(f"sweep-{back}", TAG_SWEEP, week_period(monday), monday, ["priya", "tomas", "sofia"],
                           {"coverage": "Coverage reviewed; fixes assigned to team owners."}))
    first_of_month = as_of.replace(day=1)
    for back in (4, 3, 2):
        month = add_months(first_of_month, -back)
        # Past reviews list the cases stored then; detecting now would date today's cases in the past.
        out.append(Meeting(f"monthly-{back}", MONTHLY_REVIEW, month_period(month),
                           add_months(month, 1).replace(day=5), REVIEW_ATTENDEES,
                           {"actions": "Walked the open actions.", "spend": "Spend above budget for ml-inference."},
                           [("decisions", "Each team owner reviews their showback line before the next review.")],
                           {"detect": False}))
    month = add_months(first_of_month, -2)
    out.append(Meeting("commitment", COMMITMENT_REVIEW, month_period(month), month.replace(day=5),
                       ["priya", "marcus"], {"decision": "Defer new purchases until the right-sizing actions land."},
                       [("decision", "Defer: right-size first, then buy against the new baseline.")]))
    return sorted(out, key=lambda m: m.day)


def hold_history(home: Home, truth: DemoTruth) -> dict[str, int]:
    """Hold every past meeting in ``home`` (its records seeded: people, teams, the RACI) and move their
    actions to today's state. Returns how many runs and actions were made."""
    from sqlmodel import select

    from storage.clock import Clock
    from storage.home import Home as HomeType
    from storage.records import Action, Person, Team
    from storage.sources.demo_records import HISTORY_ACTIONS, history_status

    with home.records.session() as s:
        people = {p.handle: p for p in s.exec(select(Person))}
        teams = {t.name: t for t in s.exec(select(Team))}
    made: dict[int, HistoryAction] = {}
    runs = 0
    for meeting in meetings(truth.as_of):
        that_day = HomeType(home.path, home.db_url, clock_override=Clock(meeting.day, home.config.tz))
        session = RunSession(that_day, meeting.kind, meeting.period, facilitator=FACILITATOR)
        session.open()
        session.set_attendees(meeting.attendees)
        for step, text in meeting.notes.items():
            session.save_note(step, text)
        for step, text in meeting.decisions:
            session.add_decision(text, step)
        for act in (a for a in HISTORY_ACTIONS if a.run == meeting.key):
            created = session.add_action(
                title=act.title, owner_id=int(people[act.owner].id or 0), kind=act.kind,
                due_date=truth.as_of + timedelta(days=act.due), detail=act.detail,
                team_id=teams[act.team].id if act.team else None,
                entity_kind=act.entity[0] if act.entity else None, entity_key=act.entity[1] if act.entity else None,
                expected_monthly_savings=act.savings)
            made[int(created.id or 0)] = act
        session.close(session.findings(**meeting.options))
        that_day.close()
        runs += 1
    with home.records.write() as s:
        for action_id, act in made.items():
            row = s.get(Action, action_id)
            if row is not None:
                history_status(s, truth.as_of, row, act, people[act.owner])
    return {"runs": runs, "actions": len(made)}
