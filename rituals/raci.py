"""The RACI: the shipped default table and seeding it into the records."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

from sqlmodel import Session, select

from storage.records import ROLES, RaciActivity, RaciAssignment


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
        for role, letters in row.letters.items():
            for letter in letters:
                session.add(RaciAssignment(activity_id=activity.id, role=role, letter=letter,
                                           note=row.notes.get(role)))
    return len(rows)
