"""The scheduled cycle on a real API server: shut down, hold, restore, and the rules around it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import LocalCluster
from devtools.workloads import create_cronjob, create_deployment, create_statefulset
from nsshutdown import constants as c
from tests.integration.converge_support import World


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def test_shutdown_then_restore_restores_exact_replicas(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3, cpu="250m", memory="256Mi")
    create_deployment(world.api, ns, "web", replicas=1)
    create_statefulset(world.api, ns, "db", replicas=2)
    create_cronjob(world.api, ns, "nightly")

    down = world.cli("run", "-s", world.schedule(down=True))

    assert down.code == 0, down.stderr
    assert down.namespace(ns)["status"] == "converged"
    assert down.action(ns, "api") | {"conflicts": 0} == {
        "kind": "Deployment", "name": "api", "action": "shutdown", "field": "spec.replicas",
        "from": 3, "to": 0, "outcome": "applied", "error": None, "conflicts": 0,
    }  # fmt: skip
    assert (world.replicas(ns, "api"), world.replicas(ns, "web")) == (0, 0)
    assert world.replicas(ns, "db", "StatefulSet") == 0
    assert world.get("CronJob", ns, "nightly")["spec"]["suspend"] is True
    assert world.ours(ns, "api")[c.ORIGINAL_REPLICAS] == "3"
    assert world.ours(ns, "api")[c.SHUTDOWN_BY] == "test"
    assert world.ours(ns, "db", "StatefulSet")[c.ORIGINAL_REPLICAS] == "2"
    assert world.ours(ns, "nightly", "CronJob")[c.ORIGINAL_SUSPEND] == "false"
    held = down.namespace(ns)["held"]
    assert held["replicas"] == 6
    assert held["cpu_cores"] == pytest.approx(3 * 0.25 + 3 * 0.1)

    up = world.cli("run", "-s", world.schedule(down=False))

    assert up.code == 0, up.stderr
    assert up.namespace(ns)["reason"] == "outside-window"
    assert (world.replicas(ns, "api"), world.replicas(ns, "web")) == (3, 1)
    assert world.replicas(ns, "db", "StatefulSet") == 2
    assert world.get("CronJob", ns, "nightly")["spec"]["suspend"] is False
    for kind, name in (("Deployment", "api"), ("StatefulSet", "db"), ("CronJob", "nightly")):
        assert world.ours(ns, name, kind) == {}


def test_two_runs_in_a_row_change_nothing_the_second_time(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    create_cronjob(world.api, ns, "nightly")
    schedule = world.schedule(down=True)
    world.cli("run", "-s", schedule)
    versions = {
        name: world.get(kind, ns, name)["metadata"]["resourceVersion"]
        for kind, name in (("Deployment", "api"), ("CronJob", "nightly"))
    }

    again = world.cli("run", "-s", schedule)

    assert again.code == 0, again.stderr
    assert again.namespace(ns)["status"] == "unchanged"
    assert again.namespace(ns)["actions"] == []
    for kind, name in (("Deployment", "api"), ("CronJob", "nightly")):
        assert world.get(kind, ns, name)["metadata"]["resourceVersion"] == versions[name]


def test_manual_scale_up_in_a_window_is_scaled_down_again_keeping_the_saved_count(
    world: World,
) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)
    schedule = world.schedule(down=True)
    world.cli("run", "-s", schedule)
    world.patch("Deployment", ns, "api", {"spec": {"replicas": 5}})

    again = world.cli("run", "-s", schedule)

    assert again.code == 0, again.stderr
    assert again.action(ns, "api")["from"] == 5
    assert world.replicas(ns, "api") == 0
    assert world.ours(ns, "api")[c.ORIGINAL_REPLICAS] == "3"
    world.cli("run", "-s", world.schedule(down=False))
    assert world.replicas(ns, "api") == 3


def test_new_workload_in_a_window_waits_for_the_grace_period(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "fresh", replicas=2)

    young = world.cli("run", "-s", world.schedule(down=True, grace="1h"))

    assert young.code == 0, young.stderr
    action = young.action(ns, "fresh")
    assert (action["action"], action["reason"], action["outcome"]) == (
        "skip",
        "grace-period",
        "skipped",
    )
    assert world.replicas(ns, "fresh") == 2
    assert world.ours(ns, "fresh") == {}

    older = world.cli("run", "-s", world.schedule(down=True, grace="0s"))
    assert older.action(ns, "fresh")["outcome"] == "applied"
    assert world.replicas(ns, "fresh") == 0


def test_restore_keeps_the_value_of_someone_who_already_scaled_it_up(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)
    world.cli("run", "-s", world.schedule(down=True))
    world.patch("Deployment", ns, "api", {"spec": {"replicas": 5}})

    up = world.cli("run", "-s", world.schedule(down=False))

    assert up.code == 0, up.stderr
    assert up.action(ns, "api")["action"] == "release"
    assert world.replicas(ns, "api") == 5
    assert world.ours(ns, "api") == {}


def test_a_workload_at_zero_before_shutdown_stays_at_zero_forever(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "idle", replicas=0)

    down = world.cli("run", "-s", world.schedule(down=True))
    assert down.action(ns, "idle")["reason"] == "already-at-zero"
    assert world.ours(ns, "idle") == {}

    for _ in range(2):
        up = world.cli("run", "-s", world.schedule(down=False))
        assert up.code == 0, up.stderr
        assert up.namespace(ns)["actions"] == []
        assert world.replicas(ns, "idle") == 0


def test_corrupt_saved_value_is_reported_left_in_place_and_the_rest_converges(
    world: World,
) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "broken", replicas=0, annotations={c.ORIGINAL_REPLICAS: "abc"})
    create_deployment(world.api, ns, "fine", replicas=2)

    down = world.cli("run", "-s", world.schedule(down=True))

    assert down.code == 2
    broken = down.action(ns, "broken")
    assert (broken["action"], broken["reason"]) == ("error", "corrupt-annotation")
    assert "abc" in broken["message"]
    assert down.action(ns, "fine")["outcome"] == "applied"
    assert world.replicas(ns, "fine") == 0

    up = world.cli("run", "-s", world.schedule(down=False))
    assert up.code == 2
    assert world.replicas(ns, "fine") == 2
    assert world.ours(ns, "broken") == {c.ORIGINAL_REPLICAS: "abc"}
    assert world.replicas(ns, "broken") == 0


@pytest.mark.parametrize("tampered", ["\u00b2", "\u0663", "-1", " 3", "2147483648"], ids=repr)
def test_a_tampered_saved_count_fails_its_workload_alone_in_run_status_and_restore(
    world: World, tampered: str
) -> None:
    # "²" used to crash every command (exit 4) and "٣" was restored as 3: a value no run writes.
    odd, fine = world.namespace(), world.namespace()
    create_deployment(
        world.api, odd, "api", replicas=0, annotations={c.ORIGINAL_REPLICAS: tampered}
    )
    create_deployment(world.api, fine, "api", replicas=0, annotations={c.ORIGINAL_REPLICAS: "3"})

    status = world.cli("status", "-s", world.schedule(down=False))
    assert status.code in (0, 2), status.stderr

    restore = world.cli("restore", "--all", "-s", world.schedule(down=False))
    assert restore.code == 2, restore.stderr
    error = restore.action(odd, "api")
    assert (error["action"], error["reason"]) == ("error", "corrupt-annotation")
    assert tampered in error["message"]
    assert world.replicas(fine, "api") == 3
    assert world.replicas(odd, "api") == 0
    assert world.ours(odd, "api") == {c.ORIGINAL_REPLICAS: tampered}


def test_a_namespace_whose_schedule_was_removed_is_restored(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=4)
    world.cli("run", "-s", world.schedule(down=True))
    assert world.replicas(ns, "api") == 0

    orphan = world.cli("run", "-s", world.no_schedule())

    assert orphan.code == 0, orphan.stderr
    assert orphan.namespace(ns)["reason"] == "no-schedule"
    assert orphan.action(ns, "api")["action"] == "restore"
    assert world.replicas(ns, "api") == 4
    assert world.ours(ns, "api") == {}


def test_a_cronjob_already_suspended_survives_a_cycle(world: World) -> None:
    ns = world.namespace()
    create_cronjob(world.api, ns, "paused", suspend=True)
    create_cronjob(world.api, ns, "active", suspend=False)

    down = world.cli("run", "-s", world.schedule(down=True))
    assert down.action(ns, "paused")["reason"] == "already-suspended"
    assert world.get("CronJob", ns, "active")["spec"]["suspend"] is True

    world.cli("run", "-s", world.schedule(down=False))

    assert world.get("CronJob", ns, "paused")["spec"]["suspend"] is True
    assert world.get("CronJob", ns, "active")["spec"]["suspend"] is False
    assert world.ours(ns, "paused", "CronJob") == {}
    assert world.ours(ns, "active", "CronJob") == {}


def test_excluded_workload_and_namespace_are_never_touched(world: World) -> None:
    ns, hands_off = world.namespace(), world.namespace()
    create_deployment(world.api, ns, "keep", replicas=2, annotations={c.EXCLUDE: "true"})
    create_deployment(world.api, hands_off, "api", replicas=2)
    world.annotate_namespace(hands_off, {c.EXCLUDE: "true"})

    down = world.cli("run", "-s", world.schedule(down=True))

    assert down.code == 0, down.stderr
    assert down.action(ns, "keep")["reason"] == "excluded"
    assert world.replicas(ns, "keep") == 2
    assert world.replicas(hands_off, "api") == 2
    assert down.namespace(hands_off)["actions"] == []
