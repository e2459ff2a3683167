"""Rendered Kubernetes objects (kustomize or Helm output) as plain documents, and how tests pick
one out of them."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]


def one(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    """The single object of ``kind`` (named ``name``, if given): anything else fails the test."""
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def container(docs: list[Doc]) -> Doc:
    """The CronJob's container."""
    pod = one(docs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return dict(pod["containers"][0])
