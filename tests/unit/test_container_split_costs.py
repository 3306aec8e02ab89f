"""CUR 2.0 split cost allocation data: a shared EKS node's cost handed to its pods, never doubled.

The file is written here from AWS's documented split-cost columns (split_line_item_parent_resource_id,
split_line_item_split_cost, split_line_item_unused_cost, split_line_item_split_usage,
split_line_item_split_usage_ratio, split_line_item_reserved_usage, split_line_item_actual_usage;
line_item_operation EKSPod-EC2, usage types EKS-EC2-vCPU-Hours / EKS-EC2-GB-Hours, the tags aws_eks_* and
Kubernetes labels as user_* tags in resource_tags): one m5.xlarge node of cluster ``shop`` running four pods of
four namespaces for a day, with unused capacity, and an S3 bucket beside it. Every expected figure is
computed here from the rows written, by hand.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from storage.config import ContainersConfig, load_config
from storage.cost_queries import allocation_costs, explorer_costs, showback_costs
from storage.cost_queries.containers import cluster_costs, idle_node_costs
from storage.costs import CostStore
from storage.sources.files import import_files

DAY, NEXT = date(2026, 10, 5), date(2026, 10, 6)
ACCOUNT = "111122223333"
NODE = "i-0node1"
NODE_COST = 30.0  # the node's day of running time (on demand: unblended = amortised = list)
S3_COST = 10.0
# namespace -> (Kubernetes labels, (split cost, unused cost) of its vCPU row, of its memory row)
PODS: dict[str, tuple[dict[str, str], tuple[float, float], tuple[float, float]]] = {
    "checkout": ({"team": "payments", "app": "checkout-api"}, (6.0, 1.5), (1.2, 0.3)),
    "search": ({"app": "search-api"}, (4.0, 1.0), (0.8, 0.2)),
    "storefront": ({"app": "storefront"}, (6.0, 1.5), (1.2, 0.3)),
    "sandbox": ({}, (4.0, 1.0), (0.8, 0.2)),
}
CONTAINERS = ContainersConfig(namespaces={"search": "search"}, labels={("app", "storefront"): "web"})
COLUMNS = ["bill_billing_period_start_date", "bill_billing_period_end_date", "bill_payer_account_id",
           "line_item_usage_account_id", "line_item_usage_start_date", "line_item_usage_end_date",
           "line_item_line_item_type", "line_item_product_code", "line_item_operation", "line_item_usage_type",
           "line_item_resource_id", "line_item_usage_amount", "line_item_unblended_cost",
           "pricing_public_on_demand_cost", "line_item_currency_code", "product", "resource_tags",
           "split_line_item_parent_resource_id", "split_line_item_split_cost", "split_line_item_unused_cost",
           "split_line_item_split_usage", "split_line_item_split_usage_ratio", "split_line_item_reserved_usage",
           "split_line_item_actual_usage"]


def split_totals() -> tuple[float, float]:
    """(sum of split cost, sum of unused cost) over the pods: AWS's split of the node's day."""
    split = sum(cpu[0] + mem[0] for _labels, cpu, mem in PODS.values())
    unused = sum(cpu[1] + mem[1] for _labels, cpu, mem in PODS.values())
    return split, unused


def write_cur(path: Path, pod_unblended: bool = False) -> Path:
    """The CUR 2.0 CSV: the node's EC2 row, the S3 row, two split rows (vCPU, memory) per pod.
    ``pod_unblended`` puts each pod row's split cost in line_item_unblended_cost too (a doubling trap)."""
    assert sum(split_totals()) == pytest.approx(NODE_COST)  # AWS's split adds up to the node's cost
    common = {"bill_billing_period_start_date": "2026-10-01T00:00:00Z",
              "bill_billing_period_end_date": "2026-11-01T00:00:00Z", "bill_payer_account_id": "900000000009",
              "line_item_usage_account_id": ACCOUNT, "line_item_usage_start_date": "2026-10-05T00:00:00Z",
              "line_item_usage_end_date": "2026-10-06T00:00:00Z", "line_item_currency_code": "USD"}
    rows = [
        {**common, "line_item_line_item_type": "Usage", "line_item_product_code": "AmazonEC2",
         "line_item_operation": "RunInstances", "line_item_usage_type": "USE1-BoxUsage:m5.xlarge",
         "line_item_resource_id": NODE, "line_item_usage_amount": "24", "line_item_unblended_cost": str(NODE_COST),
         "pricing_public_on_demand_cost": str(NODE_COST),
         "product": json.dumps({"product_name": "Amazon Elastic Compute Cloud", "region": "us-east-1"}),
         "resource_tags": json.dumps({"aws_eks_cluster_name": "shop", "user_environment": "prod"})},
        {**common, "line_item_line_item_type": "Usage", "line_item_product_code": "AmazonS3",
         "line_item_operation": "StandardStorage", "line_item_usage_type": "USE1-TimedStorage-ByteHrs",
         "line_item_resource_id": "data-lake", "line_item_usage_amount": "100", "line_item_unblended_cost": str(S3_COST),
         "pricing_public_on_demand_cost": str(S3_COST),
         "product": json.dumps({"product_name": "Amazon Simple Storage Service"}),
         "resource_tags": json.dumps({"user_team": "data"})},
    ]
    for i, (ns, (labels, cpu, mem)) in enumerate(PODS.items()):
        tags = {"aws_eks_cluster_name": "shop", "aws_eks_namespace": ns, "aws_eks_node": NODE,
                **{f"user_{k}": v for k, v in labels.items()}}
        arn = f"arn:aws:eks:us-east-1:{ACCOUNT}:pod/shop/{ns}/{ns}-pod-{i}/uid-{i}"
        for kind, (split, unused), capacity in (("vCPU", cpu, 4 * 24), ("GB", mem, 16 * 24)):
            ratio = split / sum(p[1][0] if kind == "vCPU" else p[2][0] for p in PODS.values()) * 0.8
            rows.append({
                **common, "line_item_line_item_type": "Usage", "line_item_product_code": "AmazonEKS",
                "line_item_operation": "EKSPod-EC2", "line_item_usage_type": f"USE1-EKS-EC2-{kind}-Hours",
                "line_item_resource_id": arn, "line_item_usage_amount": str(round(capacity * ratio, 4)),
                "line_item_unblended_cost": str(split) if pod_unblended else "0",
                "pricing_public_on_demand_cost": "0",
                "product": json.dumps({"product_name": "Amazon Elastic Kubernetes Service"}),
                "resource_tags": json.dumps(tags), "split_line_item_parent_resource_id": NODE,
                "split_line_item_split_cost": str(split), "split_line_item_unused_cost": str(unused),
                "split_line_item_split_usage": str(round(capacity * ratio, 4)),
                "split_line_item_split_usage_ratio": str(round(ratio, 6)),
                "split_line_item_reserved_usage": str(round(capacity * ratio, 4)),
                "split_line_item_actual_usage": str(round(capacity * ratio * 0.7, 4))})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def imported(tmp_path: Path, containers: ContainersConfig = CONTAINERS, **kw: bool) -> tuple[CostStore, list[str]]:
    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy, containers)
    result = import_files(store, [write_cur(tmp_path / "cur2.csv", **kw)])
    assert result.files[0].format == "cur2"
    return store, result.load.notes


def pod_cost(ns: str, idle: str) -> float:
    """A namespace's pod share by hand: split + unused (proportional) or split alone (platform)."""
    _labels, cpu, mem = PODS[ns]
    return cpu[0] + mem[0] + (cpu[1] + mem[1] if idle == "proportional" else 0.0)


@pytest.mark.parametrize("pod_unblended", [False, True])
def test_pod_rows_never_add_to_the_totals(tmp_path: Path, pod_unblended: bool) -> None:
    store, notes = imported(tmp_path, pod_unblended=pod_unblended)
    rows, billed, effective = store.totals()
    assert rows == 2 + 2 * len(PODS)
    assert billed == pytest.approx(NODE_COST + S3_COST) and effective == pytest.approx(NODE_COST + S3_COST)
    pods = store.query("SELECT sum(BilledCost) b, sum(EffectiveCost) e, sum(ListCost) l, count(ConsumedQuantity) q, "
                       "sum(x_SplitCost) s, sum(x_SplitUnusedCost) u, count(DISTINCT x_ContainerNamespace) ns, "
                       "min(x_ContainerCluster) c, min(x_SplitParentResourceId) p FROM line_items "
                       "WHERE x_Operation = 'EKSPod-EC2'").iloc[0]
    split, unused = split_totals()
    assert (pods.b, pods.e, pods.l, pods.q) == (0, 0, 0, 0)
    assert (pods.s, pods.u) == (pytest.approx(split), pytest.approx(unused))
    assert (pods.ns, pods.c, pods.p) == (len(PODS), "shop", NODE)
    dropped = split if pod_unblended else 0.0
    assert any(f"{2 * len(PODS)} Kubernetes pod" in n and f"{dropped:,.2f} unblended" in n for n in notes)


@pytest.mark.parametrize("idle", ["proportional", "platform"])
def test_showback_hands_the_node_to_its_pods_teams(tmp_path: Path, idle: str) -> None:
    containers = ContainersConfig(idle=idle, platform_team="platform", namespaces=CONTAINERS.namespaces,
                                  labels=CONTAINERS.labels)
    store, _notes = imported(tmp_path, containers)
    lines = showback_costs(store, {}, (), DAY, NEXT)
    by_team: dict[str | None, float] = {}
    for line in lines:
        by_team[line.team] = by_team.get(line.team, 0.0) + line.cost
    _split, unused = split_totals()
    want = {"payments": pod_cost("checkout", idle), "search": pod_cost("search", idle),
            "web": pod_cost("storefront", idle), "data": S3_COST,
            None: pod_cost("sandbox", idle)}  # sandbox: no label, namespace or account rule
    if idle == "platform":
        want["platform"] = unused
    assert by_team == pytest.approx(want)
    assert sum(line.cost for line in lines) == pytest.approx(NODE_COST + S3_COST)
    assert sum(line.billed for line in lines) == pytest.approx(NODE_COST + S3_COST)


def test_coverage_and_the_cluster_figures(tmp_path: Path) -> None:
    store, _notes = imported(tmp_path)
    total, by_tag, by_rule = allocation_costs(store, {}, DAY, NEXT)
    # By tag: the S3 bucket and the checkout pod's own team label; by rule: search (namespace), storefront (label).
    assert (total, by_tag, by_rule) == pytest.approx(
        (NODE_COST + S3_COST, S3_COST + pod_cost("checkout", "proportional"),
         pod_cost("search", "proportional") + pod_cost("storefront", "proportional")))
    clusters, spaces = cluster_costs(store, {}, DAY, NEXT, ("Usage",))
    split, unused = split_totals()
    [row] = clusters
    assert (row["cluster"], row["nodes"], row["pods"]) == ("shop", 1, len(PODS))
    assert (row["cost"], row["pod_cost"], row["idle_cost"]) == pytest.approx((NODE_COST, NODE_COST, unused))
    assert row["allocated_cost"] == pytest.approx(NODE_COST - pod_cost("sandbox", "proportional"))
    got = {r["namespace"]: (r["team"], r["cost"], r["idle_cost"]) for r in spaces}
    assert got == {ns: (team, pytest.approx(pod_cost(ns, "proportional")),
                        pytest.approx(PODS[ns][1][1] + PODS[ns][2][1]))
                   for ns, team in (("checkout", "payments"), ("search", "search"), ("storefront", "web"),
                                    ("sandbox", None))}
    assert idle_node_costs(store, DAY, NEXT) == [(NODE, ACCOUNT, pytest.approx(unused))]


def test_explorer_groups_by_namespace_and_label(tmp_path: Path) -> None:
    store, _notes = imported(tmp_path)
    frame = explorer_costs(store, {}, DAY, NEXT, group_by=["namespace", "tag:app"])
    got = {(r.namespace, r._4): r.cost for r in frame.itertuples()}
    want = {(ns, PODS[ns][0].get("app")): pytest.approx(pod_cost(ns, "proportional")) for ns in PODS}
    want[(None, None)] = pytest.approx(S3_COST)
    assert got == want
    only = explorer_costs(store, {}, DAY, NEXT, group_by=["cluster"], filters=[("cluster", ["shop"])])
    assert only["cost"].sum() == pytest.approx(NODE_COST)


HOME_CONFIG = """\
[containers]
idle = "proportional"
[containers.namespaces]
search = "search"
[containers.labels]
"app=storefront" = "web"
"""


def test_the_sweep_reports_the_cluster_and_the_waste_ratio_counts_its_idle_nodes(tmp_path: Path) -> None:
    from rituals.tag_fixes import compute_sweep
    from rituals.waste import waste_for
    from storage.home import Home

    (tmp_path / "finops-tui.toml").write_text(HOME_CONFIG, encoding="utf-8")
    home = Home(tmp_path)
    assert home.costs.containers == CONTAINERS
    import_files(home.costs, [write_cur(tmp_path / "in" / "cur2.csv")])
    numbers = compute_sweep(home, DAY, NEXT).as_json()
    split, unused = split_totals()
    sandbox = pod_cost("sandbox", "proportional")
    assert numbers["total_cost"] == pytest.approx(NODE_COST + S3_COST)
    assert numbers["unallocated_cost"] == pytest.approx(sandbox)
    [cluster] = numbers["clusters"]
    assert cluster == {"cluster": "shop", "nodes": 1, "pods": len(PODS), "cost": pytest.approx(NODE_COST),
                       "pod_cost": pytest.approx(NODE_COST), "idle_cost": pytest.approx(unused),
                       "idle_pct": pytest.approx(unused / NODE_COST * 100), "allocated_cost": pytest.approx(NODE_COST - sandbox),
                       "unallocated_cost": pytest.approx(sandbox),
                       "coverage_pct": pytest.approx((NODE_COST - sandbox) / NODE_COST * 100),
                       "by_tag_cost": pytest.approx(pod_cost("checkout", "proportional")),
                       "by_rule_cost": pytest.approx(pod_cost("search", "proportional") + pod_cost("storefront", "proportional"))}
    teams = {r["namespace"]: (r["team"], r["how"]) for r in numbers["cluster_namespaces"]}
    assert teams == {"checkout": ("payments", "tag"), "search": ("search", "rule"), "storefront": ("web", "rule"),
                     "sandbox": (None, None)}
    waste = waste_for(home, {}, DAY, NEXT, numbers["total_cost"], 0.0, [])
    [idle] = [r for r in waste.detail["rules"] if r["rule"] == "idle_cluster_nodes"]
    assert idle["cost"] == pytest.approx(unused) and idle["items"][0]["item"] == NODE
    assert waste.value == pytest.approx(round(unused / (NODE_COST + S3_COST) * 100, 2), abs=0.01)
    home.close()


def test_the_legacy_cur_delivers_the_same_cluster(tmp_path: Path) -> None:
    """The same rows in the legacy CUR's slash names (``splitLineItem/SplitCost``, ``resourceTags/aws:eks:
    namespace``, ``resourceTags/user:team``): the same pods, the same teams."""
    from storage.sources.cur_columns import COLUMNS as LEGACY
    from storage.sources.cur_columns import snake

    slash = {snake(name): name for name in LEGACY}
    src = write_cur(tmp_path / "cur2.csv")
    with src.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        legacy = {slash[k]: v for k, v in row.items() if k in slash}
        legacy["product/ProductName"] = json.loads(row["product"])["product_name"]
        for key, value in json.loads(row["resource_tags"]).items():
            if key.startswith("user_"):
                legacy[f"resourceTags/user:{key[5:]}"] = value
            else:  # aws_eks_cluster_name -> aws:eks:cluster-name, as the slash delivery spells AWS's own tags
                legacy["resourceTags/aws:" + key[4:].replace("_", ":", 1).replace("_", "-")] = value
        out.append(legacy)
    names = list(dict.fromkeys(k for r in out for k in r))
    path = tmp_path / "legacy" / "cur.csv"
    path.parent.mkdir()
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, names)
        writer.writeheader()
        writer.writerows(out)
    store = CostStore(tmp_path / "legacy.duckdb", load_config(None).taxonomy, CONTAINERS)
    result = import_files(store, [path])
    assert result.files[0].format == "cur-legacy"
    assert store.totals()[1:] == pytest.approx((NODE_COST + S3_COST, NODE_COST + S3_COST))
    namespaces = store.query("SELECT DISTINCT x_ContainerNamespace n FROM line_items WHERE n IS NOT NULL")
    assert set(namespaces["n"]) == set(PODS)
    by_team = {}
    for line in showback_costs(store, {}, (), DAY, NEXT):
        if line.team is not None:
            by_team[line.team] = by_team.get(line.team, 0.0) + line.cost
    assert by_team == pytest.approx({"payments": pod_cost("checkout", "proportional"), "data": S3_COST,
                                     "search": pod_cost("search", "proportional"),
                                     "web": pod_cost("storefront", "proportional")})


@pytest.mark.parametrize(("text", "words"), [
    ('[containers]\nidle = "even"\n', ["containers.idle", "proportional, platform"]),
    ('[containers]\nidle = "platform"\nplatform_team = " "\n', ["containers.platform_team"]),
    ('[containers.labels]\n"app" = "web"\n', ["containers.labels", "LABEL=VALUE"]),
    ('[containers.namespaces]\ncheckout = 3\n', ["containers.namespaces.checkout", "wrong type"]),
])
def test_a_bad_containers_config_names_its_key(tmp_path: Path, text: str, words: list[str]) -> None:
    from storage.config import ConfigError

    (tmp_path / "finops-tui.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_label_keys_fold_as_tag_keys(tmp_path: Path) -> None:
    (tmp_path / "finops-tui.toml").write_text('[containers.labels]\n" App=storefront" = "web"\n', encoding="utf-8")
    assert load_config(tmp_path).containers.labels == {("app", "storefront"): "web"}
