"""Building a demo home: the config, the cost store, the records and the marker, from the generator."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from storage.home import COSTS_FILE, DEMO_MARKER, RECORDS_FILE, Home
from storage.sources import demo

DEMO_CONFIG = """\
# finops-tui configuration of the demo company ({company}).
[taxonomy]
allocation_key = "team"

[taxonomy.allowed_values]
team = {teams}

[shared_costs]
method = "proportional"
shared_accounts = {shared}

# The {cluster} EKS cluster: the namespaces whose pods carry no team label.
[containers.namespaces]
{namespaces}
"""


class DemoHomeError(ValueError):
    """The folder cannot take the demo (it holds real data)."""


def check_demo_home(home: Home) -> None:
    if home.has_any_data() and not home.is_demo:
        raise DemoHomeError(f"{home.path} holds real data (no demo marker); the demo never writes over it. "
                            "Name an empty folder with --home, or leave --home out to use the demo's own folder.")


def check_demo_records(home: Home) -> None:
    """A records store named by a URL (a server) takes the demo only while it holds no people: the demo
    never seeds its company into a team's shared records. Opening it here, before anything is written,
    also stops an unreachable or driverless store before the cost store is built."""
    from sqlalchemy import func
    from sqlmodel import select

    from storage.records import Person

    with home.records.session() as s:
        people = s.exec(select(func.count()).select_from(Person)).one()
    if people:
        raise DemoHomeError(f"the records store {home.records_display_url} already holds {people} people; the "
                            "demo seeds only an empty one. Leave out --db and FINOPS_TUI_DB to keep the demo's "
                            "records in its folder, or name an empty database.")


def wipe_demo(home: Home) -> None:
    """Remove what the demo wrote (only in a demo-marked folder)."""
    check_demo_home(home)
    home.close()
    for name in (COSTS_FILE, RECORDS_FILE, RECORDS_FILE + "-wal", RECORDS_FILE + "-shm", "finops-tui.toml",
                 DEMO_MARKER):
        (home.path / name).unlink(missing_ok=True)
    for sub in ("minutes", "exports"):
        shutil.rmtree(home.path / sub, ignore_errors=True)


def build_demo(path: Path, as_of: date, seed: int = 7, progress: Callable[[str], None] | None = None,
               db_url: str | None = None) -> demo.DemoTruth:
    """Generate the demo company into ``path`` (an empty or demo-marked folder)."""
    say = progress or (lambda _msg: None)
    path.mkdir(parents=True, exist_ok=True)
    home = Home(path, db_url)
    check_demo_home(home)
    if db_url is not None:
        check_demo_records(home)
        home.close()
    (path / DEMO_MARKER).write_text(json.dumps({"as_of": as_of.isoformat(), "seed": seed}), encoding="utf-8")
    (path / "finops-tui.toml").write_text(DEMO_CONFIG.format(
        company=demo.COMPANY, teams=json.dumps(list(demo.TEAMS)), shared=json.dumps(list(demo.SHARED_ACCOUNTS)),
        cluster=demo.CLUSTER, namespaces="\n".join(f"{json.dumps(ns)} = {json.dumps(team)}"
                                                    for ns, team in demo.CLUSTER_TEAMS.items())),
        encoding="utf-8")
    home = Home(path, db_url)
    say(f"generating {demo.COMPANY}: 13 months to {as_of.isoformat()}")
    frame, truth = demo.generate(as_of, seed)
    say(f"loading {len(frame):,} line items into the cost store")
    from storage.loader import Staging

    with Staging(home.costs, default_currency=demo.CURRENCY) as staging:
        staging.append_frame(frame, "demo")
        staging.commit(replace_all=True, source="demo", meta={"demo_as_of": as_of.isoformat()},
                       imported_at=home.clock.now())
    from storage.cost_queries import replace_commitment_inventory

    replace_commitment_inventory(home.costs, "demo", [
        (c.commitment_id, c.type, c.description, c.hourly, c.start, c.end, c.term_years, c.payment_option,
         c.account_id) for c in truth.commitments])
    from rituals.raci import seed_default_raci
    from storage.sources.demo_records import seed_records

    say("writing people, teams, budgets and the history of past rituals")
    with home.records.write() as session:
        seed_default_raci(session)
        seed_records(session, truth)
    from rituals.demo_history import hold_history

    say("holding the past sweeps and reviews")
    hold_history(home, truth)
    from rituals.demo_inbox import seed_inbox

    say("filling the recommendations inbox")
    seed_inbox(home, as_of)
    home.close()
    return truth
