"""Creating actions. Every change to an action is an ActionEvent (who, when, field, old, new, note)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from storage.records import ACTION_KINDS, Action, ActionEvent


def create_action(session: Session, *, title: str, owner_id: int, now: datetime, actor_id: int | None = None,
                  kind: str = "other", detail: str = "", team_id: int | None = None, due_date: date | None = None,
                  source_run_id: int | None = None, entity_kind: str | None = None, entity_key: str | None = None,
                  expected_monthly_savings: float | None = None) -> Action:
    """Add an action and its "created" event in the caller's (write) session."""
    if kind not in ACTION_KINDS:
        raise ValueError(f"action kind must be one of {', '.join(ACTION_KINDS)}, got {kind!r}")
    if not title.strip():
        raise ValueError("an action needs a title")
    action = Action(title=title.strip(), detail=detail, kind=kind, owner_id=owner_id, team_id=team_id,
                    due_date=due_date, source_run_id=source_run_id, entity_kind=entity_kind,
                    entity_key=entity_key, expected_monthly_savings=expected_monthly_savings,
                    created_at=now, updated_at=now)
    session.add(action)
    session.flush()
    session.add(ActionEvent(action_id=action.id, actor_id=actor_id, at=now, field="created", old=None,
                            new=action.status, note=title.strip()))
    return action
