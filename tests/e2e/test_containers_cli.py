"""The installed command on a CUR 2.0 file with split cost allocation data (the unit test's file: one EKS node
of cluster ``shop``, four pods of four namespaces, unused capacity, an S3 bucket): `import` keeps the bill's
totals, `sweep --json` reports the cluster, `showback --json` gives each team its pods' share, `explore
--group-by namespace` splits the node. Every expected figure comes from the rows the test wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.test_container_split_costs import (
    HOME_CONFIG,
    NODE_COST,
    PODS,
    S3_COST,
    pod_cost,
    split_totals,
    write_cur,
)

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.skipif(EXE is None, reason="finops-tui is not installed"), pytest.mark.slow]
WINDOW = ("--start", "2026-10-05", "--end", "2026-10-06")


def run(home: Path, *args: str) -> dict:
    done = subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_shared_cluster_through_the_installed_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "finops-tui.toml").write_text(HOME_CONFIG, encoding="utf-8")
    summary = run(home, "import", str(write_cur(tmp_path / "cur2.csv")), "--json")
    total = NODE_COST + S3_COST
    assert summary["billing_periods"] == [{"period": "2026-10", "rows": 2 + 2 * len(PODS), "billed_cost": total,
                                           "effective_cost": total}]
    assert any("Kubernetes pod" in n for n in summary["notes"])

    sweep = run(home, "sweep", *WINDOW, "--json")
    _split, unused = split_totals()
    sandbox = pod_cost("sandbox", "proportional")
    assert sweep["total_cost"] == pytest.approx(total) and sweep["unallocated_cost"] == pytest.approx(sandbox)
    [cluster] = sweep["clusters"]
    assert (cluster["cluster"], cluster["nodes"], cluster["pods"]) == ("shop", 1, len(PODS))
    assert cluster["idle_cost"] == pytest.approx(unused)
    assert cluster["coverage_pct"] == pytest.approx((NODE_COST - sandbox) / NODE_COST * 100)
    assert {r["namespace"]: r["team"] for r in sweep["cluster_namespaces"]} == {
        "checkout": "payments", "search": "search", "storefront": "web", "sandbox": None}

    showback = run(home, "showback", "--month", "2026-10", "--json")
    direct = {"payments": pod_cost("checkout", "proportional"), "search": pod_cost("search", "proportional"),
              "web": pod_cost("storefront", "proportional"), "data": S3_COST}
    assert {t["team"]: t["direct"] for t in showback["teams"]} == pytest.approx(direct)
    # The unallocated sandbox pod is shared in proportion to direct spend (the default split).
    assert {t["team"]: t["total"] for t in showback["teams"]} == pytest.approx(
        {t: round(d + sandbox * d / sum(direct.values()), 2) for t, d in direct.items()}, abs=0.006)
    assert showback["total"] == pytest.approx(total)

    explored = run(home, "explore", "--group-by", "namespace", *WINDOW, "--json")
    assert explored["total"] == pytest.approx(total)
    rows = {r["namespace"]: r["cost"] for r in explored["rows"]}
    assert rows == pytest.approx({**{ns: pod_cost(ns, "proportional") for ns in PODS}, None: S3_COST})
