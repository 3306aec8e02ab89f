"""The RACI: the shipped default table, seeding it, its rules (exactly one A per activity; a row with no R
is warned about) and resolving a role to a person (engineering resolves to the owning team's owner)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from storage.records import RACI_LETTERS, ROLE_LABELS, ROLES, Person, RaciActivity, RaciAssignment, Team

if TYPE_CHECKING:
    from storage.db import Records


@dataclass(frozen=True)
class RaciRow:
    activity: str
    letters: dict[str, tuple[str, ...]]  # role -> letters
    notes: dict[str, str]


def default_raci() -> list[RaciRow]:
    """The default table from ``rituals/framework/raci.toml``."""
    text = resources.files("rituals").joinpath("framework", "raci.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    rows = []
    for item in data["activity"]:
        letters = {role: tuple(x.strip() for x in item[role].split(",")) for role in ROLES if item.get(role)}
        notes = {role: item[f"{role}_note"] for role in ROLES if item.get(f"{role}_note")}
        rows.append(RaciRow(item["name"], letters, notes))
    return rows


def seed_default_raci(session: Session) -> int:
    """Insert the default table when the records hold no RACI yet; returns the activities added."""
    if session.exec(select(RaciActivity)).first() is not None:
        return 0
    rows = default_raci()
    for position, row in enumerate(rows):
        activity = RaciActivity(name=row.activity, position=position)
        session.add(activity)
        session.flush()
        assert activity.id is not None  # the flush assigned it
        for role, letters in row.letters.items():
            for letter in letters:
                session.add(RaciAssignment(activity_id=activity.id, role=role, letter=letter,
                                           note=row.notes.get(role)))
    return len(rows)


# -- the rules: exactly one A per activity, at least one R ---------------------------------------------

TAGGING = "Tagging and allocation standard"
VISIBILITY = "Cost visibility and dashboards"
RIGHTSIZING = "Right-sizing and resource clean-up"
COMMITMENTS = "Commitment purchase (SP / RI)"
ANOMALIES = "Anomaly detection and response"
BUDGETS = "Budgets and guardrails"
FORECAST = "Forecast and variance analysis"
UNIT_ECONOMICS = "Unit-economics reporting"
MONTHLY_REVIEW = "Monthly cost review"
TRADE_OFFS = "Trade-off and investment decisions"


class RaciError(ValueError):
    """A RACI row that breaks the rules, or a role that resolves to no one."""


@dataclass
class RaciCheck:
    errors: list[str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def _clean_letters(letters: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for role, given in letters.items():
        if role not in ROLES:
            raise RaciError(f"RACI role must be one of {', '.join(ROLES)}, got {role!r}")
        seen = []
        for letter in given:
            letter = letter.strip().upper()
            if not letter:
                continue
            if letter not in RACI_LETTERS:
                raise RaciError(f"RACI letter must be one of R, A, C, I, got {letter!r} for {role}")
            if letter not in seen:
                seen.append(letter)
        if seen:
            out[role] = tuple(sorted(seen, key=RACI_LETTERS.index))
    return out


def parse_letters(text: str) -> tuple[str, ...]:
    """``"A,R"``, ``"AR"``, ``"a r"`` -> ``("R", "A")``."""
    raw = [c for c in text.upper() if c.isalpha()]
    bad = [c for c in raw if c not in RACI_LETTERS]
    if bad:
        raise RaciError(f"RACI letters must be R, A, C or I, got {text!r}")
    return tuple(sorted(dict.fromkeys(raw), key=RACI_LETTERS.index))


def check_row(activity: str, letters: Mapping[str, Iterable[str]]) -> RaciCheck:
    clean = _clean_letters(letters)
    accountable = [role for role, got in clean.items() if "A" in got]
    responsible = [role for role, got in clean.items() if "R" in got]
    errors, warnings = [], []
    if not accountable:
        errors.append(f"RACI row {activity!r} has no A: exactly one role must be accountable")
    elif len(accountable) > 1:
        errors.append(f"RACI row {activity!r} has {len(accountable)} A ({', '.join(accountable)}): exactly one "
                      "role must be accountable")
    if not responsible:
        warnings.append(f"RACI row {activity!r} has no R: no one is responsible for doing the work")
    return RaciCheck(errors, warnings)


def check_raci(rows: Iterable[RaciRow]) -> RaciCheck:
    out = RaciCheck([], [])
    for row in rows:
        got = check_row(row.activity, row.letters)
        out.errors += got.errors
        out.warnings += got.warnings
    return out


def load_raci(session: Session) -> list[RaciRow]:
    """The RACI as stored, in table order."""
    activities = session.exec(select(RaciActivity).order_by(col(RaciActivity.position), col(RaciActivity.id))).all()
    assignments: dict[int, list[RaciAssignment]] = {}
    for a in session.exec(select(RaciAssignment)).all():
        assignments.setdefault(a.activity_id, []).append(a)
    rows = []
    for act in activities:
        letters: dict[str, list[str]] = {}
        notes: dict[str, str] = {}
        for a in assignments.get(act.id, []):  # type: ignore[arg-type]
            letters.setdefault(a.role, []).append(a.letter)
            if a.note:
                notes[a.role] = a.note
        ordered = {r: tuple(sorted(letters[r], key=RACI_LETTERS.index)) for r in ROLES if r in letters}
        rows.append(RaciRow(act.name, ordered, notes))
    return rows


def _activity(session: Session, name: str) -> RaciActivity:
    wanted = name.strip().lower()
    for act in session.exec(select(RaciActivity)).all():
        if act.name.lower() == wanted:
            return act
    raise RaciError(f"no RACI activity named {name!r}")


def save_raci_row(session: Session, activity: str, letters: Mapping[str, Iterable[str]],
                  notes: Mapping[str, str] | None = None) -> list[str]:
    """Replace one activity's letters. Zero or several A is refused (RaciError naming the row); the
    warnings (no R) are returned. ``notes`` None keeps the notes already stored."""
    clean = _clean_letters(letters)
    act = _activity(session, activity)
    verdict = check_row(act.name, clean)
    if not verdict.ok:
        raise RaciError(verdict.errors[0])
    old = session.exec(select(RaciAssignment).where(RaciAssignment.activity_id == act.id)).all()
    kept_notes = {a.role: a.note for a in old if a.note} if notes is None else dict(notes)
    for a in old:
        session.delete(a)
    session.flush()
    for role, got in clean.items():
        for letter in got:
            session.add(RaciAssignment(activity_id=act.id, role=role, letter=letter,  # type: ignore[arg-type]
                                       note=kept_notes.get(role)))
    return verdict.warnings


def ensure_raci(records: Records) -> int:
    """Seed the default RACI the first time a home's records are used; cheap (one read) afterwards."""
    with records.session() as s:
        if s.exec(select(RaciActivity)).first() is not None:
            return 0
    with records.write() as s:
        return seed_default_raci(s)


# -- who a role is ----------------------------------------------------------------------------------------

def _team(session: Session, team: Team | int | str | None) -> Team | None:
    if team is None or isinstance(team, Team):
        return team
    if isinstance(team, int):
        found = session.get(Team, team)
    else:
        wanted = team.strip().lower()
        found = next((t for t in session.exec(select(Team)).all() if t.name.lower() == wanted), None)
    if found is None:
        raise RaciError(f"no team {team!r}")
    return found


def resolve_role(session: Session, role: str, team: Team | int | str | None = None) -> Person:
    """Finance, FinOps lead and leadership each name one person (the first active one added with that role);
    engineering resolves to the owning team's owner."""
    if role == "engineering":
        found = _team(session, team)
        if found is None:
            raise RaciError("the engineering team resolves to the owning team's owner: name the team")
        owner = session.get(Person, found.owner_id) if found.owner_id is not None else None
        if owner is None or not owner.active:
            raise RaciError(f"team {found.name} has no active owner (finops-tui teams edit {found.name} --owner HANDLE)")
        return owner
    stmt = select(Person).where(Person.role == role, Person.active == True).order_by(col(Person.id))  # noqa: E712
    person = session.exec(stmt).first()
    if person is None:
        raise RaciError(f"no active person holds the role {ROLE_LABELS.get(role, role)} "
                        f"(finops-tui people add HANDLE NAME --role {role})")
    return person


class Raci:
    """The stored RACI, read once, answering who does and who answers for an activity."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows = {row.activity.lower(): row for row in load_raci(session)}
        self._teams: dict[str, Team] | None = None
        self._people: list[Person] = []

    def _team(self, team: Team | int | str | None) -> Team | int | None:
        """A team named by its name, from the teams read once for this RACI (a sweep asks for the owner of
        every team: one read of the teams and the people, not two queries per team)."""
        if not isinstance(team, str):
            return team
        if self._teams is None:
            self._teams = {}
            for t in self.session.exec(select(Team)).all():
                self._teams.setdefault(t.name.lower(), t)  # the first one, as _team finds it
            # Held here: the session's identity map keeps only what is referenced, and the owners resolve
            # from it (session.get) without a query each.
            self._people = list(self.session.exec(select(Person)).all())
        found = self._teams.get(team.strip().lower())
        if found is None:
            raise RaciError(f"no team {team!r}")
        return found

    def row(self, activity: str) -> RaciRow:
        try:
            return self.rows[activity.strip().lower()]
        except KeyError:
            raise RaciError(f"no RACI activity named {activity!r}") from None

    def roles_with(self, activity: str, letter: str) -> list[str]:
        row = self.row(activity)
        return [role for role in ROLES if letter in row.letters.get(role, ())]

    def owner_for(self, activity: str, team: Team | int | str | None = None) -> Person:
        """The person responsible (R). With a team, an engineering R resolves to that team's owner; otherwise
        the R who is also accountable, else the first R role that names someone."""
        roles = self.roles_with(activity, "R")
        if not roles:
            raise RaciError(f"RACI row {activity!r} has no R: no one is responsible")
        if team is not None and "engineering" in roles:
            return resolve_role(self.session, "engineering", self._team(team))
        accountable = self.roles_with(activity, "A")
        ordered = [r for r in roles if r in accountable] + [r for r in roles if r not in accountable]
        last: RaciError | None = None
        for role in ordered:
            try:
                return resolve_role(self.session, role, team)
            except RaciError as exc:
                last = exc
        assert last is not None
        raise last

    def accountable_for(self, activity: str, team: Team | int | str | None = None) -> Person:
        roles = self.roles_with(activity, "A")
        if len(roles) != 1:
            raise RaciError(check_row(activity, self.row(activity).letters).errors[0])
        return resolve_role(self.session, roles[0], team)


def owner_for(session: Session, activity: str, team: Team | int | str | None = None) -> Person:
    return Raci(session).owner_for(activity, team)


def accountable_for(session: Session, activity: str, team: Team | int | str | None = None) -> Person:
    return Raci(session).accountable_for(activity, team)


def raci_markdown(rows: Iterable[RaciRow]) -> str:
    head = "| activity | " + " | ".join(ROLE_LABELS[r] for r in ROLES) + " |"
    lines = [head, "|---" * (len(ROLES) + 1) + "|"]
    for row in rows:
        cells = []
        for role in ROLES:
            text = ", ".join(row.letters.get(role, ()))
            if row.notes.get(role) and text:
                text += f" ({row.notes[role]})"
            cells.append(text)
        lines.append(f"| {row.activity} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
