"""A run killed part-way loses nothing, and the next run finishes the work.

A CronJob's run that does not finish inside ``activeDeadlineSeconds`` is stopped by the kubelet
(SIGTERM, then SIGKILL). Here the real CLI runs as its own process against the real API server
and is killed with SIGKILL as soon as its first write is visible on the server, not after a
time: whatever it had done by then, every workload must be either untouched or fully down with
its original count saved (one merge patch per workload carries both), and the next run must
write exactly the workloads the killed one did not reach. ``--qps`` slows the killed run down
(200 writes take about 10 s) so that it is surely still writing when the kill arrives.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client

from devtools import LocalCluster
from devtools.workloads import create_cronjob, create_deployment, create_statefulset
from nsshutdown import constants as c
from tests.integration.converge_support import World

NAMESPACES, PER_NAMESPACE = 20, 10
#: Per 10 workloads: 5 Deployments, 3 StatefulSets, 2 CronJobs (the benchmark's mix).
MIX = ("Deployment",) * 5 + ("StatefulSet",) * 3 + ("CronJob",) * 2


@dataclass(frozen=True)
class Seeded:
    kind: str
    namespace: str
    name: str
    replicas: int  # CronJobs: 0 (they are unsuspended)


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def _seed(world: World, label: dict[str, str]) -> list[Seeded]:
    out = []
    for n in range(NAMESPACES):
        ns = world.namespace()
        for i in range(PER_NAMESPACE):
            kind = MIX[i % len(MIX)]
            name = f"{kind.lower()}-{i}"
            if kind == "CronJob":
                create_cronjob(world.api, ns, name, labels=label)
                out.append(Seeded(kind, ns, name, 0))
                continue
            replicas = 1 + (n + i) % 3
            create = create_deployment if kind == "Deployment" else create_statefulset
            create(world.api, ns, name, replicas=replicas, labels=label)
            out.append(Seeded(kind, ns, name, replicas))
    return out


def _items(world: World, selector: str) -> dict[tuple[str, str, str], dict[str, object]]:
    """Every labelled workload as the server has it now, by (kind, namespace, name)."""
    apps, batch = client.AppsV1Api(world.api), client.BatchV1Api(world.api)
    lists = {
        "Deployment": apps.list_deployment_for_all_namespaces,
        "StatefulSet": apps.list_stateful_set_for_all_namespaces,
        "CronJob": batch.list_cron_job_for_all_namespaces,
    }
    out = {}
    for kind, list_all in lists.items():
        for item in list_all(label_selector=selector).items:
            meta = item.metadata
            own = {k: v for k, v in (meta.annotations or {}).items() if k.startswith(c.PREFIX)}
            if kind == "CronJob":
                value = {"suspend": item.spec.suspend, "own": own}
            else:
                value = {"replicas": item.spec.replicas, "own": own}
            out[(kind, meta.namespace, meta.name)] = value
    return out


def _state(w: Seeded, item: dict[str, object] | None) -> str:
    """``up`` (untouched), ``down`` (with the original saved), or what is wrong with it."""
    if item is None:
        return "missing"
    own = item["own"]
    assert isinstance(own, dict)
    if w.kind == "CronJob":
        if item["suspend"] is False and not own:
            return "up"
        if item["suspend"] is True and own.get(c.ORIGINAL_SUSPEND) == "false":
            return "down"
    else:
        if item["replicas"] == w.replicas and not own:
            return "up"
        if item["replicas"] == 0 and own.get(c.ORIGINAL_REPLICAS) == str(w.replicas):
            return "down"
    return f"neither: {item}"


def _split(world: World, seeded: list[Seeded], selector: str) -> dict[str, list[Seeded]]:
    items = _items(world, selector)
    out: dict[str, list[Seeded]] = {"up": [], "down": [], "wrong": []}
    for w in seeded:
        state = _state(w, items.get((w.kind, w.namespace, w.name)))
        out[state if state in ("up", "down") else "wrong"].append(w)
    return out


def _counts(split: dict[str, list[Seeded]]) -> dict[str, int]:
    return {state: len(workloads) for state, workloads in split.items()}


def _settled(world: World, seeded: list[Seeded], selector: str) -> dict[str, list[Seeded]]:
    """The split once two reads half a second apart agree (a write the server had accepted
    before the kill may still be landing)."""
    last = _split(world, seeded, selector)
    for _ in range(20):
        time.sleep(0.5)
        now = _split(world, seeded, selector)
        if _counts(now) == _counts(last):
            return now
        last = now
    return last


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSSHUTDOWN_")}
    env.pop("POD_NAMESPACE", None)
    return env


def test_a_run_killed_part_way_loses_nothing_and_the_next_run_finishes(world: World) -> None:
    mark = uuid.uuid4().hex[:10]
    selector = f"nsshutdown-test/killed-run={mark}"
    seeded = _seed(world, {"nsshutdown-test/killed-run": mark})
    total = len(seeded)
    schedule = world.schedule(down=True)

    argv = [
        sys.executable, "-m", "nsshutdown", "run", "--schedule", str(schedule),
        "--kubeconfig", str(world.kubeconfig), "--output", "json", "--log-format", "json",
        "--qps", "20", "--burst", "1",
    ]  # fmt: skip
    log = world.tmp_path / "killed.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=err, env=_child_env(), cwd=world.tmp_path
        )
        try:
            deadline = time.monotonic() + 120
            while not _split(world, seeded, selector)["down"]:
                assert proc.poll() is None, f"the run ended before any write: {log.read_text()}"
                assert time.monotonic() < deadline, f"no write within 120 s: {log.read_text()}"
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    after_kill = _settled(world, seeded, selector)
    assert after_kill["wrong"] == [], "the killed run left workloads neither up nor fully down"
    done = len(after_kill["down"])
    assert 0 < done < total, f"the kill came at {done} of {total}: not part-way"

    second = world.cli("run", "-s", schedule)
    assert second.code == 0, second.stderr
    ours = {w.namespace for w in seeded}  # other tests' namespaces share the API server
    applied = [
        (ns["namespace"], a["name"])
        for ns in second.doc["namespaces"]
        if ns["namespace"] in ours
        for a in ns.get("actions", [])
        if a.get("outcome") == "applied" and a.get("action") != "skip"
    ]
    left = {(w.namespace, w.name) for w in after_kill["up"]}
    assert sorted(applied) == sorted(left), "the next run wrote other than what was left"
    assert len(applied) == total - done
    everything = _split(world, seeded, selector)
    assert _counts(everything) == {"up": 0, "down": total, "wrong": 0}, everything["wrong"][:5]

    restore = world.cli("run", "-s", world.schedule(down=False, file="up.yaml"))
    assert restore.code == 0, restore.stderr
    restored = _split(world, seeded, selector)  # up: every original count back, no annotation
    assert _counts(restored) == {"up": total, "down": 0, "wrong": 0}, restored["wrong"][:5]


def test_sigterm_stops_the_run_between_namespaces_and_it_still_reports(world: World) -> None:
    """SIGTERM (the deadline, a drain) lets the namespaces in progress finish and starts no other:
    every namespace ends fully down or untouched, the command prints its report and exits 2."""
    mark = uuid.uuid4().hex[:10]
    selector = f"nsshutdown-test/killed-run={mark}"
    seeded = _seed(world, {"nsshutdown-test/killed-run": mark})
    schedule = world.schedule(down=True)
    argv = [
        sys.executable, "-m", "nsshutdown", "run", "--schedule", str(schedule),
        "--kubeconfig", str(world.kubeconfig), "--output", "json", "--log-format", "json",
        "--qps", "20", "--burst", "1", "--concurrency", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_child_env(), cwd=world.tmp_path
    )
    deadline = time.monotonic() + 120
    while not _split(world, seeded, selector)["down"] and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before any write"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 2, err.decode()
    report = json.loads(out)
    statuses = {ns["namespace"]: ns["status"] for ns in report["namespaces"]}
    ours = {w.namespace for w in seeded}
    assert "converged" in {statuses[ns] for ns in ours}
    assert "not-attempted" in {statuses[ns] for ns in ours}
    assert b"SIGTERM" in err
    split = _split(world, seeded, selector)
    assert split["wrong"] == []
    for namespace in ours:  # all or nothing, per namespace
        states = {s for s, ws in split.items() for w in ws if w.namespace == namespace}
        assert len(states) == 1, (namespace, states)
        assert states == ({"down"} if statuses[namespace] == "converged" else {"up"})

    second = world.cli("run", "-s", schedule)
    assert second.code == 0, second.stderr
    assert _counts(_split(world, seeded, selector)) == {"up": 0, "down": len(seeded), "wrong": 0}
