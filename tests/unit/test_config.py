"""Loading valid schedules: defaults, per-schedule settings, examples, sources."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from nsshutdown.errors import ConfigError
from nsshutdown.model import Kind
from nsshutdown.schedule.config import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_KINDS,
    load_schedule,
    load_schedule_text,
)

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))

DESIGN_EXAMPLE = """\
version: 1
defaults:
  timezone: Europe/Madrid            # IANA names only; UTC if omitted
  kinds: [Deployment, StatefulSet, CronJob]
  gracePeriod: 15m                   # workloads younger than this are left alone
excludeNamespaces: [kube-system, kube-public, kube-node-lease]
schedules:
  - name: dev-nights-and-weekends
    namespaces:
      names: ["dev-*", "qa"]
      selector: "env in (dev,qa)"
      exclude: ["dev-shared"]
    timezone: Europe/Madrid
    windows:
      - shutdown: "0 20 * * 1-5"
        startup:  "0 8 * * 1-5"
    holidays: ["2026-12-24", "2026-12-25"]
    kinds: [Deployment, StatefulSet, CronJob, ScaledObject, Rollout]
"""


def test_the_design_example_loads() -> None:
    schedule = load_schedule_text(DESIGN_EXAMPLE, source="design")
    rule = schedule.schedules[0]
    assert schedule.exclude_namespaces == ("kube-system", "kube-public", "kube-node-lease")
    assert rule.name == "dev-nights-and-weekends"
    assert rule.namespaces.names == ("dev-*", "qa")
    assert str(rule.namespaces.selector) == "env in (dev,qa)"
    assert rule.windows[0].shutdown == "0 20 * * 1-5"
    assert rule.holidays == (date(2026, 12, 24), date(2026, 12, 25))
    assert rule.kinds == (
        Kind.DEPLOYMENT,
        Kind.STATEFULSET,
        Kind.CRONJOB,
        Kind.SCALEDOBJECT,
        Kind.ROLLOUT,
    )
    assert rule.grace_period == timedelta(minutes=15)


def test_rules_inherit_what_they_do_not_set() -> None:
    schedule = load_schedule_text(
        """
version: 1
defaults: {timezone: America/New_York, kinds: [Deployment], gracePeriod: 1h}
schedules:
  - {name: inherits, namespaces: {names: [a]}, holidays: [2026-07-04]}
  - name: overrides
    namespaces: {names: [b]}
    holidays: [2026-07-04]
    timezone: Asia/Tokyo
    kinds: [CronJob]
    gracePeriod: 0s
""",
        source="t",
    )
    inherits, overrides = schedule.schedules
    assert (inherits.timezone, inherits.kinds, inherits.grace_period) == (
        "America/New_York",
        (Kind.DEPLOYMENT,),
        timedelta(hours=1),
    )
    assert (overrides.timezone, overrides.kinds, overrides.grace_period) == (
        "Asia/Tokyo",
        (Kind.CRONJOB,),
        timedelta(0),
    )


def test_minimal_schedule_uses_documented_defaults() -> None:
    schedule = load_schedule_text("version: 1\n", source="t")
    assert schedule.defaults.timezone == "UTC"
    assert schedule.defaults.kinds == DEFAULT_KINDS
    assert schedule.defaults.grace_period == DEFAULT_GRACE_PERIOD
    assert schedule.schedules == ()


def test_models_are_frozen_and_hashable() -> None:
    rule = load_schedule_text(DESIGN_EXAMPLE, source="t").schedules[0]
    with pytest.raises(ValueError, match="frozen"):
        rule.name = "other"  # type: ignore[misc]
    assert hash(rule) == hash(load_schedule_text(DESIGN_EXAMPLE, source="t").schedules[0])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_is_valid(path: Path) -> None:
    assert load_schedule(path).schedules


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


def test_errors_name_the_given_source() -> None:
    with pytest.raises(ConfigError) as caught:
        load_schedule_text("version: 2\n", source="configmap ops/nsshutdown:schedule.yaml")
    assert caught.value.problems == [
        "configmap ops/nsshutdown:schedule.yaml:1: version: input should be 1, got 2"
    ]


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the schedule"):
        load_schedule(tmp_path / "absent.yaml")


def test_all_problems_are_reported_at_once_in_line_order() -> None:
    text = "version: 1\ndefaults:\n  timezone: Mars/Olympus\n  gracePeriod: soon\n"
    with pytest.raises(ConfigError) as caught:
        load_schedule_text(text, source="s.yaml")
    assert [p.split(":")[1] for p in caught.value.problems] == ["3", "4"]
