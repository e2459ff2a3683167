"""Write the ``.spec`` of a PrometheusRule manifest as a plain rule file for promtool.

promtool reads ``groups:`` files, not the Kubernetes custom resource. The extracted file is what
``promtool check rules`` and ``promtool test rules`` see, so it must be exactly the deployed spec.

Usage: python -m tools.monitoring.extract_rules MANIFEST -o RULES_FILE
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml


class RuleManifestError(ValueError):
    """The manifest holds no usable PrometheusRule."""


def extract_spec(manifest_text: str) -> dict[str, Any]:
    """Return the ``spec`` of the one PrometheusRule in a (possibly multi-document) manifest."""
    rules = [
        doc
        for doc in yaml.safe_load_all(manifest_text)
        if isinstance(doc, dict) and doc.get("kind") == "PrometheusRule"
    ]
    if len(rules) != 1:
        raise RuleManifestError(f"expected exactly one PrometheusRule, found {len(rules)}")
    spec = rules[0].get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("groups"), list):
        raise RuleManifestError("PrometheusRule has no spec.groups list")
    return {"groups": spec["groups"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path, help="PrometheusRule manifest (YAML)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="rule file to write")
    args = parser.parse_args(argv)
    try:
        spec = extract_spec(args.manifest.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, RuleManifestError) as err:
        sys.stderr.write(f"{args.manifest}: {err}\n")
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Generated from {args.manifest} by extract_rules.py: do not edit.\n"
    args.output.write_text(header + yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
