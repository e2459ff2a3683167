"""Exit 4 is for our bugs only: no annotation, label or schedule can produce it.

Arbitrary text (any Unicode) goes where users, other tools and hands put it: the tool's own
annotations on workloads and namespaces, label values, and the schedule file. Every command that
reads them ends in a handled outcome: exit 0, 1 or 2, one JSON document when asked for, never a
traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsshutdown import constants as c
from nsshutdown.model import Kind, Namespace
from tests.cli.support import ALWAYS_DOWN, ALWAYS_UP, cli, connect_to
from tests.fakes import FakeCluster, workload

HANDLED = {0, 1, 2}
WORKLOAD_KEYS = [*c.OWN_WORKLOAD_KEYS, c.KEDA_PAUSED_REPLICAS, c.EXCLUDE]
NAMESPACE_KEYS = [c.KEEP_UP_UNTIL, c.KEEP_DOWN_UNTIL, c.EXCLUDE]
# Text a person or a tool might write, and text nobody would: timestamps, counts, any Unicode.
values = (
    st.text(max_size=40)
    | st.from_regex(r"-?[0-9]{1,25}", fullmatch=True)
    | st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?",
        fullmatch=True,
    )
    | st.sampled_from(
        ["true", "false", "", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "²", "٣"]
    )
)
fuzz = settings(
    max_examples=60, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(
    workload_notes=st.dictionaries(st.sampled_from(WORKLOAD_KEYS), values, max_size=4),
    namespace_notes=st.dictionaries(st.sampled_from(NAMESPACE_KEYS), values, max_size=3),
    label=values,
    kind=st.sampled_from(list(Kind)),
    command=st.sampled_from(["run", "status", "restore-all", "run-up"]),
)
def test_any_annotation_or_label_is_a_handled_outcome(  # noqa: PLR0917 - hypothesis arguments
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    workload_notes: dict[str, str],
    namespace_notes: dict[str, str],
    label: str,
    kind: Kind,
    command: str,
) -> None:
    fake = FakeCluster(
        [
            workload("api", kind=kind, annotations=workload_notes),
            workload("web", namespace="dev-b", replicas=2),
        ],
        namespaces=[
            Namespace(
                "dev-a",
                labels=MappingProxyType({"team": label}),
                annotations=MappingProxyType(namespace_notes),
            ),
            Namespace("dev-b"),
        ],
    )
    connect_to(monkeypatch, fake)
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text((ALWAYS_UP if command == "run-up" else ALWAYS_DOWN).format(grace="0s"))
    argv = {
        "run": ["run", "-s", schedule],
        "run-up": ["run", "-s", schedule],
        "status": ["status", "-s", schedule],
        "restore-all": ["restore", "--all", "-s", schedule],
    }[command]
    code, doc, stderr = cli(*argv, "-o", "json")
    assert code in HANDLED, stderr
    assert isinstance(doc, dict), doc
    # one bad workload never stops the others
    if command == "run":
        assert fake.get("web", namespace="dev-b").replicas == 0


yaml_scalars = st.none() | st.booleans() | st.integers() | st.floats() | values
SCHEDULE_KEYS = [
    "version", "defaults", "timezone", "kinds", "gracePeriod", "excludeNamespaces", "customKinds",
    "schedules", "name", "namespaces", "names", "selector", "exclude", "windows", "shutdown",
    "startup", "holidays", "kind", "group", "resource",
]  # fmt: skip
documents = st.recursive(
    yaml_scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(SCHEDULE_KEYS) | st.text(max_size=8), children, max_size=4
        )
    ),
    max_leaves=25,
)


@fuzz
@given(document=documents)
def test_any_schedule_document_is_valid_or_a_clear_error(tmp_path: Path, document: object) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(json.dumps({"version": 1, "schedules": [document]} if document else document))
    code, doc, stderr = cli("validate", "-s", path, "-o", "json")
    assert code in {0, 1}, stderr
    if code == 1:
        assert str(path) in stderr + json.dumps(doc)


@fuzz
@given(text=st.text(max_size=300))
def test_any_text_as_a_schedule_is_valid_or_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, stderr = cli("validate", "-s", path)
    assert code in {0, 1}, stderr
    if code == 1:
        assert str(path) in stderr
