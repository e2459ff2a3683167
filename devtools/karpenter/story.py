"""The Karpenter act of ``make demo``: a night of nsshutdown, told in nodes and dollars per hour.

Team namespaces are seeded; their pods stay Pending until Karpenter launches priced simulated
nodes for them. The real CLI's ``run`` then takes the dev namespaces down (the schedule makes today
a holiday), and the demo prints every change of Karpenter's nodes as it happens, next to the
savings nsshutdown itself estimates. ``restore --all`` brings the morning, and the nodes come back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devtools.karpenter.catalog import CATALOG
from devtools.karpenter.cluster import KarpenterCluster
from devtools.karpenter.nodepool import Disruption
from devtools.karpenter.nodes import (
    Nodes,
    PodPhases,
    karpenter_nodes,
    pod_phases,
    wait_for,
    wait_settled,
)
from devtools.karpenter.scenario import (
    App,
    Cli,
    Team,
    estimated_savings,
    pushed_savings,
    seed,
    write_schedule,
)

DEMO_TEAMS: tuple[Team, ...] = (
    Team("dev-payments", (App("api", 3, "500m", "1Gi"), App("worker", 2, "1", "2Gi"))),
    Team("dev-search", (App("indexer", 2, "1", "4Gi"), App("search-api", 2, "500m", "1Gi"))),
    Team(
        "prod",
        (App("api", 3, "500m", "1Gi"), App("postgres", 1, "1", "4Gi", kind="StatefulSet")),
        labels={"env": "prod"},
    ),
)
#: Nodes of up to 4 vCPU, so that the teams spread over several nodes and some can go.
DEMO_INSTANCE_TYPES = tuple(t.name for t in CATALOG if t.cpu <= 4)
PROVISION_TIMEOUT = 180.0
SETTLE_TIMEOUT = 300.0
#: Unchanged nodes for this long end the night. Karpenter's first decision comes 25-40 s after
#: the shutdown (consolidateAfter, then its 10 s polling and 15 s validation of a decision), and
#: later rounds follow about 10 s after the previous one finished.
QUIET = 45.0


def demo_cluster() -> KarpenterCluster:
    """The demo's cluster: a NodePool with consolidateAfter 10s and a 100% budget."""
    return KarpenterCluster(
        disruption=Disruption(consolidate_after="10s", budget_nodes="100%"),
        instance_types=DEMO_INSTANCE_TYPES,
    )


@dataclass(frozen=True)
class Moment:
    title: str
    nodes: Nodes
    seconds: float
    estimate: float | None = None


def _ticker(label: str) -> Callable[[float, Nodes], None]:
    def show(elapsed: float, nodes: Nodes) -> None:
        draining = f", {nodes.draining} draining" if nodes.draining else ""
        print(f"  {label} +{elapsed:5.1f}s  {nodes.describe()}{draining}", flush=True)

    return show


def _all_running(cluster: KarpenterCluster, namespaces: list[str], label: str) -> float:
    def show(elapsed: float, phases: PodPhases) -> None:
        with cluster.api_client() as api:
            nodes = karpenter_nodes(api)
        print(f"  {label} +{elapsed:5.1f}s  pods {phases}  {nodes.describe()}", flush=True)

    with cluster.api_client() as api:
        _, seconds = wait_for(
            lambda: pod_phases(api, namespaces),
            lambda p: p.total > 0 and p.running == p.total,
            timeout=PROVISION_TIMEOUT,
            what="every pod Running",
            on_change=show,
        )
    return seconds


def _step(cli: Cli, title: str, *args: str) -> bool:
    print(f"\n=== {title}\n$ nsshutdown {' '.join(args)}", flush=True)
    code = cli.run(*args).returncode
    if code != 0:
        print(f"!!! exit code {code}", flush=True)
    return code == 0


def run_karpenter_story(cluster: KarpenterCluster, pushgateway_url: str) -> bool:
    """Run the act; return True when a step failed."""
    cli = Cli(
        cluster.kubeconfig_path,
        write_schedule(cluster.workdir / "demo-schedule.yaml"),
        pushgateway_url,
    )
    namespaces = [team.namespace for team in DEMO_TEAMS]
    dev = [team.namespace for team in DEMO_TEAMS if team.labels.get("env") == "dev"]
    print(f"\nSchedule:\n{cli.schedule.read_text()}")
    print("=== Evening: the teams' pods wait for nodes; Karpenter launches them")
    with cluster.api_client() as api:
        seed(api, DEMO_TEAMS)
    seconds = _all_running(cluster, namespaces, "provisioning")
    with cluster.api_client() as api:
        before = Moment("evening", karpenter_nodes(api), seconds)
    failed = not _step(cli, "The CronJob's run: the dev namespaces go down", "run")
    failed |= not _step(cli, "Where every namespace stands", "status")
    estimate = estimated_savings(cli.json("status"), dev)
    print(
        f"\nnsshutdown estimates ${estimate:.4f}/h saved (status), and pushed"
        f" nsshutdown_estimated_hourly_savings summing to ${pushed_savings(pushgateway_url):.4f}/h."
    )
    with cluster.api_client() as api:
        # The ReplicaSets delete the pods in the background: the night starts when they are gone.
        wait_for(
            lambda: pod_phases(api, dev),
            lambda p: p.total == 0,
            timeout=60,
            what="the dev pods gone",
        )
    print(
        f"\n=== Night: Karpenter consolidates (consolidateAfter "
        f"{cluster.disruption.consolidate_after}, budget {cluster.disruption.budget_nodes})"
    )
    with cluster.api_client() as api:
        settled = wait_settled(api, timeout=SETTLE_TIMEOUT, quiet=QUIET, on_change=_ticker("night"))
    night = Moment("night", settled.nodes, settled.last_change, estimate)
    failed |= not _step(cli, "Morning: bring everything back", "restore", "--all")
    seconds = _all_running(cluster, namespaces, "morning")
    with cluster.api_client() as api:
        morning = Moment("morning", karpenter_nodes(api), seconds)
    _summary(before, night, morning)
    return failed


def _summary(before: Moment, night: Moment, morning: Moment) -> None:
    removed = before.nodes.hourly - night.nodes.hourly
    print("\n=== What the shutdown was worth")
    print(f"  {'':<9} {'NODES':>5} {'$/HOUR':>8}  REACHED")
    for moment, when in zip(
        (before, night, morning),
        ("after seeding", "after the run (last node change)", "after the restore"),
        strict=True,
    ):
        print(
            f"  {moment.title:<9} {moment.nodes.count:>5} {moment.nodes.hourly:>8.4f}"
            f"  {moment.seconds:.0f} s {when}"
        )
    print(f"  nsshutdown's estimate (requests held, status): ${night.estimate or 0:.4f}/h")
    print(f"  price of the nodes Karpenter removed:          ${removed:.4f}/h")
    print(
        "  The estimate prices the requests held; Karpenter removes whole nodes, with their"
        " unrequested\n  capacity (more saved) once it can repack what stays up, and keeps a"
        " node while a pod it\n  may not move runs there (less saved). See docs/karpenter.md."
    )
