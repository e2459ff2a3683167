"""RBAC tables generated from the Role and ClusterRole manifests, with the manifests' own comments.

The comment block right above each rule says why the rule exists; the comment block at the top of
a file says what is deliberately absent. Both are shown, so the security page says exactly what the
manifests grant and why, and changes with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from nsshutdown_docs import markup

ROLE_KINDS = ("ClusterRole", "Role")


@dataclass(frozen=True)
class RuleDoc:
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    resource_names: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class RoleDoc:
    kind: str
    name: str
    source: str  # path relative to the repository root
    comment: str
    rules: tuple[RuleDoc, ...]


def collect(root: Path, paths: list[str]) -> list[RoleDoc]:
    roles = []
    for relative in paths:
        text = (root / relative).read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in yaml.compose_all(text):
            data = yaml.safe_load(yaml.serialize(node)) if node is not None else None
            if not isinstance(data, dict) or data.get("kind") not in ROLE_KINDS:
                continue
            rule_nodes = _rule_nodes(node)
            rules: list[RuleDoc] = []
            for rule, rule_node in zip(data.get("rules") or [], rule_nodes, strict=True):
                why = _comment_above(lines, rule_node.start_mark.line)
                if not why and rules and rules[-1].why:
                    why = "As above."  # one comment above a group of rules covers the group
                rules.append(_rule(rule, why))
            roles.append(
                RoleDoc(
                    kind=data["kind"],
                    name=data["metadata"]["name"],
                    source=relative,
                    comment=_comment_above(lines, node.start_mark.line),
                    rules=tuple(rules),
                )
            )
    return roles


def _rule_nodes(node: yaml.Node) -> list[yaml.Node]:
    for key, value in node.value:
        if key.value == "rules":
            return list(value.value)
    return []


def _rule(rule: dict[str, list[str]], why: str) -> RuleDoc:
    return RuleDoc(
        api_groups=tuple(rule.get("apiGroups") or ()),
        resources=tuple(rule.get("resources") or ()),
        resource_names=tuple(rule.get("resourceNames") or ()),
        verbs=tuple(rule.get("verbs") or ()),
        why=why,
    )


def _comment_above(lines: list[str], line: int) -> str:
    """The contiguous ``#`` comment lines right above 0-based ``line``."""
    block: list[str] = []
    i = line - 1
    while i >= 0 and lines[i].strip().startswith("#"):
        block.insert(0, re.sub(r"^\s*# ?", "", lines[i]))
        i -= 1
    return "\n".join(block).strip()


def comment_markup(comment: str) -> list[str]:
    """A YAML comment block as MyST: blank lines split paragraphs, ``- `` lines become bullets."""
    blocks: list[list[str]] = []  # [kind, text...], kind "p" or "li"
    previous_blank = True
    for line in comment.splitlines():
        if not line.strip():
            previous_blank = True
            continue
        if line.startswith("- "):
            blocks.append(["li", line[2:]])
        elif not previous_blank and blocks and (line.startswith(" ") or blocks[-1][0] == "p"):
            blocks[-1].append(line.strip())
        else:
            blocks.append(["p", line.strip()])
        previous_blank = False
    out: list[str] = []
    for index, (kind, *text) in enumerate(blocks):
        prose = markup.inline(" ".join(text))
        out.append(f"- {prose}" if kind == "li" else prose)
        following = blocks[index + 1][0] if index + 1 < len(blocks) else None
        if not (kind == "li" and following == "li"):
            out.append("")
    return out


def render(roles: list[RoleDoc], *, level: int = 3) -> list[str]:
    lines: list[str] = []
    for role in roles:
        title = f"{role.kind} {markup.code(role.name)}"
        lines += markup.heading(level, title, label=markup.slug("rbac", role.kind, role.name))
        lines += [f"From {markup.code(role.source)}.", ""]
        lines += comment_markup(role.comment)
        lines += markup.table(
            ["API group", "Resources", "Verbs", "Why"],
            [
                [
                    ", ".join(markup.code(g or "core") for g in rule.api_groups),
                    ", ".join(markup.code(r) for r in rule.resources)
                    + (
                        " (only " + ", ".join(markup.code(n) for n in rule.resource_names) + ")"
                        if rule.resource_names
                        else ""
                    ),
                    ", ".join(markup.code(v) for v in rule.verbs),
                    markup.inline(rule.why),
                ]
                for rule in role.rules
            ],
        )
    return lines
