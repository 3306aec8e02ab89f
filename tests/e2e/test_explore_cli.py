"""`finops-tui explore` through the installed command: its --json is the explorer's own object and the sums
computed by hand from the rows written in the test; --csv, --view/--save and bad input (exit 2)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess

import pytest

from rituals.explorer import explore
from storage.clock import Clock
from storage.config import build_view
from storage.home import Home
from storage.records import Team, TeamAccount
from tests.conftest import FIXED_TODAY
from tests.explorer_data import END, RULES, START, expected, write_store


@pytest.fixture
def hand_home_path(tmp_path):
    home = Home(tmp_path / "home", None, clock_override=Clock(FIXED_TODAY))
    home.path.mkdir(parents=True)
    write_store(home.costs)
    with home.records.write() as s:
        for account, name in RULES.items():
            team = Team(name=name)
            s.add(team)
            s.flush()
            s.add(TeamAccount(account_id=account, team_id=team.id))
    home.close()
    return tmp_path / "home"


def run(home, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINOPS_TUI_TODAY": FIXED_TODAY.isoformat()}
    return subprocess.run(["finops-tui", "--home", str(home), "explore", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_explore_json_is_the_explorer_and_the_hand_sums(hand_home_path) -> None:
    args = ["--group-by", "team,service", "--filter", "team=a,b", "--filter", "tag:env=prod,(none)",
            "--exclude", "service=Tax", "--start", START.isoformat(), "--end", END.isoformat(), "--cost", "billed"]
    done = run(hand_home_path, *args, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    want = expected(["team", "service"], {"team": ["a", "b"], "tag:environment": ["prod", "(none)"]},
                    {"service": ["Tax"]}, "billed")
    assert data["total"] == pytest.approx(want["total"]) and data["currency"] == "USD"
    assert data["previous"]["total"] == pytest.approx(want["previous"])
    assert {(r["team"], r["service"]): (r["cost"], r["previous_cost"]) for r in data["rows"]} == pytest.approx(
        want["groups"])
    home = Home(hand_home_path, None, clock_override=Clock(FIXED_TODAY))
    try:
        view = build_view(group_by=["team", "service"], filters=["team=a,b", "tag:env=prod,(none)"],
                          excludes=["service=Tax"], preset=None, start=START, end=END, granularity="day",
                          cost="billed", taxonomy=home.config.taxonomy)
        assert data == json.loads(json.dumps(explore(home, view).as_json(), default=str))
    finally:
        home.close()

    table = list(csv.DictReader(io.StringIO(run(hand_home_path, *args, "--csv").stdout)))
    assert {(r["team"], r["service"]): float(r["cost"]) for r in table} == pytest.approx(
        {k: v[0] for k, v in want["groups"].items()})


def test_saved_view_and_bad_input(hand_home_path) -> None:
    saved = run(hand_home_path, "--group-by", "service", "--filter", "team=(none)", "--start", START.isoformat(),
                "--end", END.isoformat(), "--save", "unallocated")
    assert saved.returncode == 0, saved.stderr
    again = run(hand_home_path, "--view", "unallocated", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["total"] == pytest.approx(expected(["service"], {"team": ["(none)"]})["total"])
    for args, message in ((["--group-by", "colour"], "unknown dimension 'colour'"),
                          (["--filter", "team"], "must be DIMENSION=VALUE"),
                          (["--start", "2026-10-20", "--end", "2026-10-10"], "must be before"),
                          (["--view", "nope"], "no such view"),
                          (["--json", "--csv"], "choose one")):
        done = run(hand_home_path, *args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
