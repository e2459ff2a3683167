"""A team's own schedule choice, scale to N and wake-up tiers, on a real API server.

No controllers run here, so nothing becomes ready by itself: the wake-up tier test writes the
StatefulSet's status itself, as its controller would once its pods are ready.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from devtools import LocalCluster
from devtools.workloads import create_deployment, create_statefulset
from nsshutdown import constants as c
from tests.integration.converge_support import ALWAYS_DOWN_WINDOW, World


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def write(world: World, text: str, name: str = "schedule.yaml") -> Path:
    path = world.tmp_path / name
    path.write_text(text)
    return path


def label(world: World, namespace: str, value: str) -> None:
    body = {"metadata": {"labels": {c.SCHEDULE_CHOICE: value}}}
    client.CoreV1Api(world.api).patch_namespace(namespace, body)


def test_a_namespace_label_picks_its_schedule_within_the_policy(world: World) -> None:
    chooser, typo, opted_out, forbidden = (world.namespace() for _ in range(4))
    for ns in (chooser, typo, opted_out, forbidden):
        create_deployment(world.api, ns, "api", replicas=2)
    label(world, chooser, "evenings")
    label(world, typo, "evenigns")
    label(world, opted_out, "none")
    label(world, forbidden, "weekends")
    everyone = json.dumps([typo, opted_out, forbidden])
    schedule = write(
        world,
        f"""version: 1
defaults: {{gracePeriod: 0s}}
policy: {{choosable: [evenings]}}
schedules:
  - name: office-hours
    namespaces: {{names: {everyone}}}
    holidays: ["2001-01-01"]
  - name: evenings
    windows: [{ALWAYS_DOWN_WINDOW}]
  - name: weekends
    windows: [{ALWAYS_DOWN_WINDOW}]
""",
    )

    planned = world.cli("plan", "-s", schedule, logs=False)
    ran = world.cli("run", "-s", schedule)

    assert ran.code == 0, ran.stderr
    for ns, name, via in (
        (chooser, "evenings", "label"),
        (typo, "office-hours", "match"),
        (opted_out, None, "label"),
        (forbidden, "office-hours", "match"),
    ):
        row = next(n for n in planned.doc["namespaces"] if n["namespace"] == ns)
        assert (row["schedule"], row["schedule_from"]) == (name, via), row
    assert world.replicas(chooser, "api") == 0
    assert world.ours(chooser, "api")[c.SHUTDOWN_BY] == "evenings"
    for ns in (typo, opted_out, forbidden):
        assert world.replicas(ns, "api") == 2
    messages = {n["namespace"]: n.get("message", "") for n in planned.doc["namespaces"]}
    assert 'did you mean "evenings"' in messages[typo]
    assert '"weekends" may not be chosen (policy.choosable: evenings)' in messages[forbidden]
    found = world.cli("validate", "-s", schedule, "--cluster", logs=False).doc["cluster"]
    evenings = next(s for s in found["schedules"] if s["name"] == "evenings")
    assert (evenings["namespaces"], evenings["chosen"]) == ([chooser], [chooser])
    assert opted_out in found["opted_out"]
    assert {r["namespace"] for r in found["refused"]} == {typo, forbidden}
    status = world.cli("status", "-s", schedule)
    rows = {n["namespace"]: n for n in status.doc["namespaces"]}
    assert (rows[chooser]["state"], rows[chooser]["schedule_from"]) == ("down", "label")


def test_down_replicas_keeps_n_running_and_restore_gives_back_the_rest(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=5)
    create_deployment(world.api, ns, "web", replicas=3)
    create_deployment(world.api, ns, "tiny", replicas=1)
    world.patch("Deployment", ns, "web", {"metadata": {"annotations": {c.DOWN_REPLICAS: "0"}}})
    down = world.schedule(down=True, extra="")
    down.write_text(down.read_text().replace("gracePeriod: 0s", "gracePeriod: 0s, downReplicas: 2"))

    first = world.cli("run", "-s", down)
    again = world.cli("run", "-s", down)

    assert first.code == 0, first.stderr
    assert (world.replicas(ns, "api"), world.replicas(ns, "web"), world.replicas(ns, "tiny")) == (
        2, 0, 1,
    )  # fmt: skip
    assert world.ours(ns, "api")[c.SCALED_TO] == "2"
    assert c.SCALED_TO not in world.ours(ns, "web")
    assert first.action(ns, "tiny")["reason"] == "at-or-below-down-replicas"
    assert again.namespace(ns)["status"] == "unchanged"
    state = world.cli("status", "-s", down).doc["namespaces"]
    assert next(n for n in state if n["namespace"] == ns)["state"] == "down"

    up = world.cli("run", "-s", world.schedule(down=False))

    assert up.code == 0, up.stderr
    assert (world.replicas(ns, "api"), world.replicas(ns, "web"), world.replicas(ns, "tiny")) == (
        5, 3, 1,
    )  # fmt: skip
    assert world.ours(ns, "api") == {}
    assert world.ours(ns, "web") == {c.DOWN_REPLICAS: "0"}  # the team's own setting stays


def report_status(world: World, namespace: str, name: str, *, ready: int) -> None:
    """What the StatefulSet controller writes: the generation it has seen and its ready pods."""
    apps = client.AppsV1Api(world.api)
    generation = apps.read_namespaced_stateful_set(name, namespace).metadata.generation
    status = {"observedGeneration": generation, "replicas": ready, "readyReplicas": ready,
              "availableReplicas": ready}  # fmt: skip
    apps.patch_namespaced_stateful_set_status(name, namespace, {"status": status})


def test_wake_up_tiers_wait_for_the_database_to_report_ready(world: World) -> None:
    ns = world.namespace()
    create_statefulset(world.api, ns, "db", replicas=2)
    create_deployment(world.api, ns, "api", replicas=3)
    report_status(world, ns, "db", ready=2)
    tiers = "    wakeTimeout: 1h\n"  # the default wakeOrder: StatefulSets first
    down = world.schedule(down=True)
    down.write_text(down.read_text() + tiers)
    up = world.schedule(down=False, file="up.yaml")
    up.write_text(up.read_text() + tiers)

    shutdown = world.cli("run", "-s", down)
    assert shutdown.code == 0, shutdown.stderr
    assert [a["name"] for a in shutdown.namespace(ns)["actions"]] == ["api", "db"]  # apps first
    report_status(world, ns, "db", ready=0)

    first = world.cli("run", "-s", up, "--wake-wait", "0s")  # level-triggered: no waiting

    assert first.code == 0, first.stderr
    assert (world.replicas(ns, "db", "StatefulSet"), world.replicas(ns, "api")) == (2, 0)
    assert world.ours(ns, "db", "StatefulSet") == {}  # nothing left behind for the timeout
    waiting = first.action(ns, "api")
    assert (waiting["action"], waiting["reason"]) == ("skip", "waiting-for-tier")
    assert "StatefulSet db" in waiting["message"]
    report_status(world, ns, "db", ready=1)  # the new generation seen, one pod of two ready
    assert world.cli("run", "-s", up, "--wake-wait", "0s").action(ns, "api")["reason"] == (
        "waiting-for-tier"
    )

    report_status(world, ns, "db", ready=2)
    last = world.cli("run", "-s", up, "--wake-wait", "0s")

    assert last.code == 0, last.stderr
    assert last.action(ns, "api")["action"] == "restore"
    assert world.replicas(ns, "api") == 3
    assert world.ours(ns, "api") == {}


def test_a_command_waits_for_the_database_then_wakes_the_rest_in_the_same_run(world: World) -> None:
    ns = world.namespace()
    create_statefulset(world.api, ns, "db", replicas=1)
    create_deployment(world.api, ns, "api", replicas=2)
    report_status(world, ns, "db", ready=1)
    down = world.schedule(down=True)
    assert world.cli("run", "-s", down).code == 0
    report_status(world, ns, "db", ready=0)
    apps = client.AppsV1Api(world.api)

    def controller() -> None:  # the StatefulSet's pods become ready a little after the restore
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if apps.read_namespaced_stateful_set("db", ns).spec.replicas == 1:
                time.sleep(1)
                report_status(world, ns, "db", ready=1)
                return
            time.sleep(0.2)

    ready = threading.Thread(target=controller)
    ready.start()
    started = time.monotonic()
    woke = world.cli("restore", ns, "-s", down, "--wake-wait", "1m")
    took = time.monotonic() - started
    ready.join()

    assert woke.code == 0, woke.stderr
    assert (world.replicas(ns, "db", "StatefulSet"), world.replicas(ns, "api")) == (1, 2)
    assert {a["name"]: a["action"] for a in woke.namespace(ns)["actions"]} == {
        "db": "restore", "api": "restore",
    }  # fmt: skip
    assert took < 60  # it went on once the database was ready, before --wake-wait ran out


def test_without_a_controller_nothing_waits(world: World) -> None:
    """No controller has ever reported on these (no status.observedGeneration): waiting for
    them could only end at the timeout, so the whole namespace comes back in one pass."""
    ns = world.namespace()
    create_statefulset(world.api, ns, "db", replicas=1)
    create_deployment(world.api, ns, "api", replicas=2)
    assert world.cli("run", "-s", world.schedule(down=True)).code == 0

    up = world.cli("run", "-s", world.schedule(down=False), "--wake-wait", "0s")

    assert (world.replicas(ns, "db", "StatefulSet"), world.replicas(ns, "api")) == (1, 2)
    assert {a["action"] for a in up.namespace(ns)["actions"]} == {"restore"}


def test_a_database_that_never_gets_ready_holds_the_apps_only_until_the_timeout(
    world: World,
) -> None:
    """The timeout counts from the tool's own write, as the API server records it in
    managedFields: nothing is written for it."""
    ns = world.namespace()
    create_statefulset(world.api, ns, "db", replicas=1)
    create_deployment(world.api, ns, "api", replicas=2)
    report_status(world, ns, "db", ready=1)
    tiers = "    wakeTimeout: 6s\n"
    down = world.schedule(down=True)
    down.write_text(down.read_text() + tiers)
    up = world.schedule(down=False, file="up.yaml")
    up.write_text(up.read_text() + tiers)
    assert world.cli("run", "-s", down).code == 0
    report_status(world, ns, "db", ready=0)

    first = world.cli("run", "-s", up, "--wake-wait", "0s")
    report_status(world, ns, "db", ready=0)  # its controller sees it, no pod gets ready
    assert first.action(ns, "api")["reason"] == "waiting-for-tier"
    still = world.cli("run", "-s", up, "--wake-wait", "0s")  # restored < 6 s ago, not ready
    assert still.action(ns, "api")["reason"] == "waiting-for-tier"
    assert "at most" in still.action(ns, "api")["message"]
    time.sleep(7)  # past the timeout (managedFields times have a resolution of one second)
    later = world.cli("run", "-s", up, "--wake-wait", "0s")

    assert later.action(ns, "api")["action"] == "restore"
    assert world.replicas(ns, "api") == 2
    assert world.ours(ns, "db", "StatefulSet") == {}
