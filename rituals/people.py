"""People and teams: who they are, which role each holds, which team owns which account, who is acting.

A team owns accounts: ``team_account`` is the single source of the account -> team allocation rule used by
the sweep, the routing of anomalies and the showback. People and teams are retired, never deleted, so the
history of actions keeps its names.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from storage.records import (
    OPEN_ACTION_STATUSES,
    ROLE_LABELS,
    ROLES,
    Action,
    Person,
    Team,
    TeamAccount,
    TeamMember,
)

USER_ENV = "FINOPS_TUI_USER"
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class UnknownPerson(ValueError):
    """The person acting is not in the records (or is retired): refused as bad input."""


def normalize_role(text: str) -> str:
    """``FinOps lead``, ``finops-lead`` and ``finops_lead`` are the same role."""
    key = re.sub(r"[\s-]+", "_", text.strip().lower())
    if key in ("engineering_team", "eng"):
        key = "engineering"
    if key not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {text!r}")
    return key


def check_handle(handle: str) -> str:
    value = handle.strip().lower()
    if not _HANDLE.match(value):
        raise ValueError(f"handle must be lower-case letters, digits, '.', '_' or '-' (at most 64), got {handle!r}")
    return value


# -- look-ups ---------------------------------------------------------------------------------------------

def find_person(session: Session, handle: str) -> Person | None:
    return session.exec(select(Person).where(Person.handle == handle.strip().lower())).first()


def get_person(session: Session, handle: str) -> Person:
    person = find_person(session, handle)
    if person is None:
        raise UnknownPerson(f"no person with handle {handle!r} (see `finops-tui people list`)")
    return person


def find_team(session: Session, name: str) -> Team | None:
    wanted = name.strip().lower()
    for team in session.exec(select(Team)).all():
        if team.name.lower() == wanted:
            return team
    return None


def get_team(session: Session, name: str) -> Team:
    team = find_team(session, name)
    if team is None:
        raise ValueError(f"no team named {name!r} (see `finops-tui teams list`)")
    return team


def people_by_id(session: Session) -> dict[int, Person]:
    return {p.id: p for p in session.exec(select(Person)).all() if p.id is not None}


def team_for_account(session: Session, account_id: str) -> Team | None:
    """The team owning an account (the allocation rule), or None when no team owns it."""
    row = session.get(TeamAccount, str(account_id))
    return session.get(Team, row.team_id) if row is not None else None


def account_teams(session: Session) -> dict[str, str]:
    """Every owned account id -> its team's name."""
    teams = {t.id: t.name for t in session.exec(select(Team)).all()}
    return {a.account_id: teams[a.team_id] for a in session.exec(select(TeamAccount)).all()}


# -- who is acting ----------------------------------------------------------------------------------------

def unknown_person_text(wanted: str, source: str) -> str:
    """What to tell someone the records do not know (an OS user such as root in a container): the exact
    ways to say who they are."""
    handle = wanted if wanted and _HANDLE.match(wanted) else "HANDLE"
    return (f"unknown person {wanted!r} (from {source}); say who you are with `--as HANDLE` (for example "
            f"`finops-tui actions list --mine --as HANDLE`), or `export {USER_ENV}=HANDLE`, or add yourself: "
            f"`finops-tui people add {handle} \"Your Name\" --role engineering` (see `finops-tui people list`); "
            f"`finops-tui people whoami --set HANDLE` (or choosing yourself in My actions) remembers it on this machine")


def current_os_user() -> str:
    """The OS user running this process ('' when the system cannot say)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def resolve_actor(session: Session, as_handle: str | None = None, *, env: Mapping[str, str] | None = None,
                  os_user: str | None = None, remembered: Mapping[str, str] | None = None) -> Person:
    """``--as HANDLE``, else ``FINOPS_TUI_USER``, else the handle this OS user chose once on this machine
    (``remembered``: OS user -> handle, see ``Home.remembered_people``), else the OS user matched to a handle
    (or an e-mail's local part). An unknown or retired person is refused with UnknownPerson."""
    env = os.environ if env is None else env
    user = os_user if os_user is not None else current_os_user()
    if as_handle:
        source, wanted = "--as", as_handle
    elif env.get(USER_ENV, "").strip():
        source, wanted = USER_ENV, env[USER_ENV]
    elif remembered and remembered.get(user):
        source, wanted = f"the choice remembered for OS user {user!r}", remembered[user]
    else:
        wanted, source = user, "the OS user"
    wanted = wanted.strip().lower()
    person = find_person(session, wanted) if wanted else None
    if person is None and source == "the OS user" and wanted:
        for candidate in session.exec(select(Person)).all():
            if candidate.email and candidate.email.split("@")[0].lower() == wanted:
                person = candidate
                break
    if person is None:
        raise UnknownPerson(unknown_person_text(wanted, source))
    if not person.active:
        raise UnknownPerson(f"{person.handle} is retired and cannot act")
    return person


# -- people -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PersonView:
    id: int
    handle: str
    name: str
    email: str | None
    role: str
    active: bool
    teams: tuple[str, ...]
    owns: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"handle": self.handle, "name": self.name, "email": self.email, "role": self.role,
                "role_label": ROLE_LABELS[self.role], "active": self.active, "teams": list(self.teams),
                "owns_teams": list(self.owns)}


def list_people(session: Session, include_retired: bool = False) -> list[PersonView]:
    teams = {t.id: t for t in session.exec(select(Team)).all()}
    member_of: dict[int, list[str]] = {}
    for m in session.exec(select(TeamMember)).all():
        if teams[m.team_id].active:
            member_of.setdefault(m.person_id, []).append(teams[m.team_id].name)
    out = []
    for p in session.exec(select(Person).order_by(Person.handle)).all():
        if not p.active and not include_retired:
            continue
        owns = tuple(sorted(t.name for t in teams.values() if t.owner_id == p.id and t.active))
        out.append(PersonView(p.id, p.handle, p.name, p.email, p.role, p.active,  # type: ignore[arg-type]
                              tuple(sorted(member_of.get(p.id, []))), owns))  # type: ignore[arg-type]
    return out


def _join(session: Session, person: Person, team_names: Iterable[str]) -> None:
    for name in team_names:
        team = get_team(session, name)
        if session.get(TeamMember, (person.id, team.id)) is None:
            session.add(TeamMember(person_id=person.id, team_id=team.id))  # type: ignore[arg-type]


def add_person(session: Session, handle: str, name: str, role: str, *, email: str | None = None,
               teams: Iterable[str] = ()) -> Person:
    handle = check_handle(handle)
    if find_person(session, handle) is not None:
        raise ValueError(f"a person with handle {handle!r} already exists")
    if not name.strip():
        raise ValueError("a person needs a name")
    person = Person(handle=handle, name=name.strip(), email=(email or None), role=normalize_role(role))
    session.add(person)
    session.flush()
    _join(session, person, teams)
    return person


def edit_person(session: Session, handle: str, *, name: str | None = None, role: str | None = None,
                email: str | None = None, join: Iterable[str] = (), leave: Iterable[str] = (),
                reactivate: bool = False) -> Person:
    person = get_person(session, handle)
    if name is not None:
        if not name.strip():
            raise ValueError("a person needs a name")
        person.name = name.strip()
    if role is not None:
        person.role = normalize_role(role)
    if email is not None:
        person.email = email or None
    if reactivate:
        person.active = True
    session.add(person)
    session.flush()
    _join(session, person, join)
    for team_name in leave:
        team = get_team(session, team_name)
        member = session.get(TeamMember, (person.id, team.id))
        if member is not None:
            session.delete(member)
    return person


@dataclass
class Retired:
    name: str
    warnings: list[str] = field(default_factory=list)


def retire_person(session: Session, handle: str) -> Retired:
    """Mark a person retired; warn about the teams they own and the open actions they hold."""
    person = get_person(session, handle)
    person.active = False
    session.add(person)
    out = Retired(person.handle)
    owned = session.exec(select(Team).where(Team.owner_id == person.id, Team.active == True)).all()  # noqa: E712
    for team in owned:
        out.warnings.append(f"team {team.name} is owned by {person.handle}: give it a new owner "
                            f"(finops-tui teams edit {team.name} --owner HANDLE)")
    open_actions = session.exec(select(Action).where(Action.owner_id == person.id,
                                                     col(Action.status).in_(OPEN_ACTION_STATUSES))).all()
    if open_actions:
        out.warnings.append(f"{person.handle} still owns {len(open_actions)} open action(s): reassign them")
    return out


# -- teams ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    owner: str | None
    active: bool
    members: tuple[str, ...]
    accounts: tuple[tuple[str, str | None], ...]  # (account id, account name)

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "owner": self.owner, "active": self.active, "members": list(self.members),
                "accounts": [{"account_id": a, "account_name": n} for a, n in self.accounts]}


def list_teams(session: Session, include_retired: bool = False) -> list[TeamView]:
    people = people_by_id(session)
    members: dict[int, list[str]] = {}
    for m in session.exec(select(TeamMember)).all():
        members.setdefault(m.team_id, []).append(people[m.person_id].handle)
    accounts: dict[int, list[tuple[str, str | None]]] = {}
    for a in session.exec(select(TeamAccount).order_by(TeamAccount.account_id)).all():
        accounts.setdefault(a.team_id, []).append((a.account_id, a.account_name))
    out = []
    for t in session.exec(select(Team).order_by(Team.name)).all():
        if not t.active and not include_retired:
            continue
        owner = people[t.owner_id].handle if t.owner_id in people else None
        out.append(TeamView(t.id, t.name, owner, t.active, tuple(sorted(members.get(t.id, []))),  # type: ignore[arg-type]
                            tuple(accounts.get(t.id, []))))  # type: ignore[arg-type]
    return out


def _set_owner(session: Session, team: Team, owner: str) -> None:
    person = get_person(session, owner)
    if not person.active:
        raise ValueError(f"{person.handle} is retired and cannot own team {team.name}")
    team.owner_id = person.id
    if session.get(TeamMember, (person.id, team.id)) is None:
        session.add(TeamMember(person_id=person.id, team_id=team.id))  # type: ignore[arg-type]


def add_team(session: Session, name: str, *, owner: str | None = None) -> Team:
    name = name.strip()
    if not name:
        raise ValueError("a team needs a name")
    if find_team(session, name) is not None:
        raise ValueError(f"a team named {name!r} already exists")
    team = Team(name=name)
    session.add(team)
    session.flush()
    if owner:
        _set_owner(session, team, owner)
    return team


def edit_team(session: Session, name: str, *, owner: str | None = None, rename: str | None = None,
              reactivate: bool = False) -> Team:
    team = get_team(session, name)
    if rename:
        other = find_team(session, rename)
        if other is not None and other.id != team.id:
            raise ValueError(f"a team named {rename!r} already exists")
        team.name = rename.strip()
    if owner:
        _set_owner(session, team, owner)
    if reactivate:
        team.active = True
    session.add(team)
    session.flush()
    return team


def retire_team(session: Session, name: str) -> Retired:
    team = get_team(session, name)
    team.active = False
    session.add(team)
    out = Retired(team.name)
    accounts = session.exec(select(TeamAccount).where(TeamAccount.team_id == team.id)).all()
    if accounts:
        out.warnings.append(f"team {team.name} still owns {len(accounts)} account(s): their spend stays "
                            "allocated to it until you move them")
    return out


def add_account(session: Session, team_name: str, account_id: str, *, account_name: str | None = None,
                move: bool = False) -> TeamAccount:
    """Give an account to a team. An account has one owning team; taking it from another needs ``move``."""
    team = get_team(session, team_name)
    account_id = str(account_id).strip()
    if not account_id:
        raise ValueError("an account id must not be empty")
    row = session.get(TeamAccount, account_id)
    if row is not None and row.team_id != team.id and not move:
        other = session.get(Team, row.team_id)
        raise ValueError(f"account {account_id} is owned by team {other.name if other else row.team_id}; "
                         "pass --move to give it to this team")
    if row is None:
        row = TeamAccount(account_id=account_id, team_id=team.id, account_name=account_name)  # type: ignore[arg-type]
    else:
        row.team_id = team.id  # type: ignore[assignment]
        if account_name is not None:
            row.account_name = account_name
    session.add(row)
    return row


def remove_account(session: Session, team_name: str, account_id: str) -> None:
    team = get_team(session, team_name)
    row = session.get(TeamAccount, str(account_id).strip())
    if row is None or row.team_id != team.id:
        raise ValueError(f"team {team.name} does not own account {account_id}")
    session.delete(row)
