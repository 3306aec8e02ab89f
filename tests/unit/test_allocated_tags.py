"""FOCUS 1.3 AllocatedTags count for allocation like Tags (issue 19): on a charge the provider split, a key in
both takes the AllocatedTags value, a key only in Tags keeps its value. The sweep's coverage, showback and the
explorer (a taxonomy key and a key outside the taxonomy) are checked against figures computed here from the
generated file's raw rows, with a fold written here (key case and white space, the default aliases)."""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops_tui.cli import main
from tests.focus_files import DESCRIPTIVE_CSV

ENV = {"FINOPS_TUI_TODAY": "2026-11-27"}
WINDOW = ["--start", "2026-10-01", "--end", "2026-11-01"]
ALIASES = {"env": "environment"}  # the default taxonomy's alias among the keys written here
COLUMNS = ["BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory",
           "ChargePeriodStart", "ChargePeriodEnd", "BilledCost", "EffectiveCost", "ServiceName", "SubAccountId",
           "ResourceId", "Tags", "AllocatedMethodId", "AllocatedResourceId", "AllocatedTags", "ServiceProviderName",
           "HostProviderName", *(c for c in DESCRIPTIVE_CSV if c not in ("ProviderName", "PublisherName", "ServiceName"))]
TAG_CHOICES = [None, {"team": "platform"}, {"Team ": "platform", "env": "prod"}, {"owner": "ops"}]
ALLOCATED_CHOICES = [None, "{}", {"team": "checkout", "app": "cart"}, {" TEAM": "search"}, {"env": "dev"},
                     {"team": "", "app": "feed"}]


def fold(raw: object) -> dict[str, str]:
    """A Tags or AllocatedTags cell as folded keys -> non-empty values."""
    if not raw or raw == "{}":
        return {}
    out: dict[str, str] = {}
    for k, v in json.loads(str(raw)).items():
        key = k.strip().lower()
        key = ALIASES.get(key, key)
        if str(v).strip() and not out.get(key):
            out[key] = v
    return out


def allocation_tags(row: dict[str, str]) -> dict[str, str]:
    return {**fold(row["Tags"]), **fold(row["AllocatedTags"])}


def generated(path: Path, n: int = 240) -> list[dict[str, str]]:
    rnd = random.Random(19)
    rows = []
    for i in range(n):
        tags, alloc = rnd.choice(TAG_CHOICES), rnd.choice(ALLOCATED_CHOICES)
        split = alloc is not None
        day = 1 + i % 28
        cost = f"{rnd.randint(1, 5000) / 100:.2f}"
        rows.append({
            "BillingAccountId": "payer", "BillingCurrency": "USD", "BillingPeriodStart": "2026-10-01T00:00:00Z",
            "BillingPeriodEnd": "2026-11-01T00:00:00Z", "ChargeCategory": "Usage",
            "ChargePeriodStart": f"2026-10-{day:02d}T00:00:00Z", "ChargePeriodEnd": f"2026-10-{day:02d}T01:00:00Z",
            "BilledCost": cost, "EffectiveCost": cost, "ServiceName": "Amazon EKS", "SubAccountId": f"acct-{i % 3}",
            "ResourceId": f"node-{i % 5}", "Tags": json.dumps(tags) if tags else "",
            "AllocatedMethodId": "split-cost" if split else "", "AllocatedResourceId": f"pod-{i}" if split else "",
            "AllocatedTags": (alloc if isinstance(alloc, str) else json.dumps(alloc)) if split else "",
            "ServiceProviderName": "AWS", "HostProviderName": "AWS",
            **{c: DESCRIPTIVE_CSV[c] for c in COLUMNS if c in DESCRIPTIVE_CSV},
        })
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return rows


def cli(*args: str) -> dict:
    out = CliRunner().invoke(main, list(args), env=ENV)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, str]]]:
    d = tmp_path_factory.mktemp("allocated")
    rows = generated(d / "focus13.csv")
    home = str(d / "home")
    summary = cli("--home", home, "import", str(d / "focus13.csv"), "--json")
    assert summary["files"][0]["format"] == "focus-1.3" and summary["rows"] == len(rows)
    return home, rows


def by(rows: list[dict[str, str]], key: str) -> dict[str | None, float]:
    out: dict[str | None, float] = defaultdict(float)
    for r in rows:
        out[allocation_tags(r).get(key)] += float(r["EffectiveCost"])
    return dict(out)


def test_the_generated_file_has_every_case(imported) -> None:
    _, rows = imported
    both = [r for r in rows if "team" in fold(r["Tags"]) and "team" in fold(r["AllocatedTags"])]
    assert both and any(fold(r["Tags"])["team"] != fold(r["AllocatedTags"])["team"] for r in both)
    assert any(not r["Tags"] and fold(r["AllocatedTags"]) for r in rows)  # AllocatedTags alone
    assert any(r["AllocatedTags"] == "{}" for r in rows) and any(not r["AllocatedTags"] for r in rows)
    assert any(json.loads(r["AllocatedTags"] or "{}").get("team") == "" and "team" in fold(r["Tags"]) for r in rows)


def test_sweep_coverage_counts_allocated_tags(imported) -> None:
    home, rows = imported
    s = cli("--home", home, "sweep", *WINDOW, "--json")
    total = sum(float(r["EffectiveCost"]) for r in rows)
    assert s["total_cost"] == pytest.approx(total)
    for key in ("team", "environment", "owner"):
        tagged = sum(c for v, c in by(rows, key).items() if v)
        assert s["by_key"][key] == pytest.approx(tagged / total * 100, abs=1e-6), key  # shown to 6 places
    assert s["by_tag_cost"] == pytest.approx(sum(c for v, c in by(rows, "team").items() if v))
    teams = {t["team"]: t["cost"] for t in s["by_team"] if t["team"]}
    assert teams == pytest.approx({v: c for v, c in by(rows, "team").items() if v})
    # Without the AllocatedTags rule the figures would differ: the test could not pass on Tags alone.
    tags_only = sum(float(r["EffectiveCost"]) for r in rows if fold(r["Tags"]).get("team"))
    assert s["by_tag_cost"] != pytest.approx(tags_only)


def test_showback_and_the_explorer_allocate_by_allocated_tags(imported) -> None:
    home, rows = imported
    want = {v: c for v, c in by(rows, "team").items() if v}
    show = cli("--home", home, "showback", "--month", "2026-10", "--json")
    assert {t["team"]: t["direct"] for t in show["teams"] if t["team"] in want} == pytest.approx(want)
    explored = cli("--home", home, "explore", "--group-by", "team", *WINDOW, "--json")
    assert {r["team"]: r["cost"] for r in explored["rows"] if r["team"]} == pytest.approx(want)
    # "app" is no taxonomy key: read from the folded tag sets, where AllocatedTags are overlaid too.
    apps = cli("--home", home, "explore", "--group-by", "tag:app", *WINDOW, "--json")
    got = {r["tag:app"]: r["cost"] for r in apps["rows"] if r["tag:app"]}
    assert got == pytest.approx({v: c for v, c in by(rows, "app").items() if v})


def test_an_unreadable_allocated_tags_value_names_its_column_first_row_and_count(tmp_path: Path) -> None:
    rows = generated(tmp_path / "bad.csv", n=12)
    bad_rows = [3, 7, 8]  # 1-based data rows
    for i in bad_rows:
        rows[i - 1]["AllocatedTags"] = "{team: checkout"
        rows[i - 1]["AllocatedMethodId"] = "split-cost"
    with (tmp_path / "bad.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "import", str(tmp_path / "bad.csv")], env=ENV)
    assert out.exit_code == 2
    line = out.stderr.strip()
    assert "bad.csv, row 3, column AllocatedTags" in line and "AllocatedTags is not valid JSON" in line
    assert "3 rows have an unreadable AllocatedTags value" in line
    assert not (tmp_path / "h" / "costs.duckdb").exists()


def test_a_taxonomy_change_refolds_allocated_tags_too(tmp_path: Path) -> None:
    from storage.config import Taxonomy
    from storage.costs import CostStore
    from storage.sources.files import import_files

    rows = generated(tmp_path / "a.csv", n=60)
    import_files(CostStore(tmp_path / "costs.duckdb", Taxonomy("team", ("environment",), dict(ALIASES))),
                 [tmp_path / "a.csv"])
    other = generated(tmp_path / "b.csv", n=5)
    text = (tmp_path / "b.csv").read_text().replace("payer,", "payer-2,")  # another account: nothing replaced
    (tmp_path / "b.csv").write_text(text)
    store = CostStore(tmp_path / "costs.duckdb", Taxonomy("app", ("team",), dict(ALIASES)))
    import_files(store, [tmp_path / "b.csv"])  # the taxonomy changed: every stored row is re-tagged
    got = store.query("SELECT tag_app AS app, sum(EffectiveCost) AS cost FROM line_items GROUP BY 1")
    want = by(rows + other, "app")
    assert {a: c for a, c in zip(got["app"], got["cost"], strict=True) if isinstance(a, str)} == pytest.approx(
        {a: c for a, c in want.items() if a})


@pytest.mark.parametrize("value", ["allocated:oops", "allocated:[1]", 'allocated:{"t": "{}"}'])
def test_a_tags_value_that_looks_like_a_tag_set_key_is_refused_by_row(tmp_path: Path, value: str) -> None:
    """A Tags value starting like the store's own Tags+AllocatedTags key ("allocated:") is unreadable text
    like any other, named by file, row and column, not a crash of the fold."""
    rows = generated(tmp_path / "bad.csv", n=12)
    rows[4]["Tags"] = value
    rows[4]["AllocatedTags"] = ""
    with (tmp_path / "bad.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "import", str(tmp_path / "bad.csv")], env=ENV)
    assert out.exit_code == 2, out.output
    line = out.stderr.strip()
    assert "bad.csv, row 5, column Tags" in line and "Tags is not valid JSON" in line, line
    assert not (tmp_path / "h" / "costs.duckdb").exists()
