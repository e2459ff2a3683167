"""No value in an object the tool reads can crash it: arbitrary JSON, any Unicode, every kind.

Every parser of cluster data (``kube.wire``) and every decision made on what it returns
(``decide``, held replicas, running or not) is fed objects built from any JSON value, with the
fields the tool reads drawn more often than chance would. The result is always a value: a
workload, an action, a count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nsshutdown import constants as c
from nsshutdown.kinds import registry
from nsshutdown.kube.wire import parse_namespace, parse_workload, pinning_pod
from nsshutdown.model import Action, Context, CustomKind, Desired, Kind
from nsshutdown.plan.decisions import decide

NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
KINDS = [*Kind, CustomKind("CloneSet", "apps.kruise.io", "v1alpha1", "clonesets")]
OUR_KEYS = [*c.OWN_WORKLOAD_KEYS, c.KEDA_PAUSED_REPLICAS, c.EXCLUDE, c.KARPENTER_DO_NOT_DISRUPT]

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
# The keys the tool reads, with any value; sometimes the value it expects, sometimes not.
annotations = st.dictionaries(
    st.sampled_from(OUR_KEYS) | st.text(max_size=20), json_values | st.text()
)
container = st.fixed_dictionaries(
    {},
    optional={
        "resources": st.fixed_dictionaries(
            {},
            optional={"requests": st.dictionaries(st.sampled_from(["cpu", "memory"]), json_values)},
        )
        | json_values,
        "restartPolicy": st.sampled_from(["Always", "Never"]) | json_values,
    },
)
pod = st.fixed_dictionaries(
    {},
    optional={
        "containers": st.lists(container | json_values, max_size=3) | json_values,
        "initContainers": st.lists(container | json_values, max_size=2) | json_values,
    },
)
spec = st.fixed_dictionaries(
    {},
    optional={
        "replicas": json_values,
        "suspend": json_values,
        "template": st.fixed_dictionaries({}, optional={"spec": pod | json_values}) | json_values,
        "jobTemplate": st.fixed_dictionaries(
            {}, optional={"spec": st.fixed_dictionaries({}, optional={"template": json_values})}
        ),
        "scaleTargetRef": json_values,
        "nodeName": json_values,
    },
)
items = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.fixed_dictionaries(
            {},
            optional={
                "name": json_values,
                "namespace": json_values,
                "annotations": annotations | json_values,
                "labels": json_values,
                "creationTimestamp": json_values | st.text(),
                "resourceVersion": json_values,
                "uid": json_values,
            },
        )
        | json_values,
        "spec": spec | json_values,
        "status": json_values,
    },
)


@settings(max_examples=300, derandomize=True)
@given(st.sampled_from(KINDS), items, st.sampled_from(list(Desired)))
def test_any_object_of_any_kind_parses_and_gets_a_decision(
    kind: Kind | CustomKind, item: dict[str, Any], desired: Desired
) -> None:
    workload = parse_workload(kind, item)
    mechanism = registry.of(workload)
    assert isinstance(decide(workload, Context(desired, NOW)), Action)
    assert mechanism.held_replicas(workload) >= 0
    assert isinstance(mechanism.is_running(workload), bool)
    assert workload.requests.cpu_cores >= 0
    assert workload.requests.memory_bytes >= 0


@settings(max_examples=200, derandomize=True)
@given(items)
def test_any_namespace_or_pod_parses(item: dict[str, Any]) -> None:
    namespace = parse_namespace(item)
    assert all(isinstance(v, str) for v in namespace.labels.values())
    pinning_pod(item)  # a pod or None, never an exception
