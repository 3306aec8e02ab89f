"""Waiting for an app's workers in Pilot tests.

``App.workers.wait_for_complete()`` raises ``WorkerCancelled`` when one of the workers it waits for was
cancelled, and an exclusive worker is cancelled by design when a newer copy replaces it (the triage
chart follows the highlighted case; the board reloads on resume). That is how such a worker should end,
so the wait simply starts again until every worker has finished one way or the other.
"""

from __future__ import annotations

from textual.app import App
from textual.worker import WorkerCancelled


async def workers_done(app: App, attempts: int = 50) -> None:
    for _ in range(attempts):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue
    await app.workers.wait_for_complete()


async def show_step(pilot, screen, step: str) -> None:  # type: ignore[no-untyped-def]
    """Move a ritual screen to ``step`` and wait until its widgets are composed and rendered (a lazy
    stepper composes a step's body when it is first shown)."""
    screen.go_to(step)
    for _ in range(200):
        await pilot.pause()
        if step in screen._composed:
            break
    assert step in screen._composed, f"step {step!r} was not composed"
    await pilot.pause()
