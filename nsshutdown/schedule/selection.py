"""Which namespaces a schedule rule covers: shell globs on names and Kubernetes label selectors.

Selectors follow the Kubernetes syntax (``kubectl get -l``), so a selector that works with kubectl
works here: ``env=dev``, ``env==dev``, ``env!=prod``, ``env in (dev,qa)``, ``tier notin (db)``,
``team`` (label present), ``!legacy`` (label absent); commas AND the requirements together.
Selectors are parsed once, when the schedule loads, so a typo stops the run before the cluster is
touched instead of silently matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from fnmatch import fnmatchcase

# Kubernetes "qualified name" (the part after an optional DNS-subdomain prefix) and label value.
_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# Characters a namespace-name glob may hold: DNS-label characters plus glob syntax.
_GLOB = re.compile(r"[a-z0-9\-*?\[\]!]+")
_TOKEN = re.compile(r"\s*(?:(?P<op>==|!=|=|!|\(|\)|,)|(?P<word>[^\s=!(),]+))")


class Op(Enum):
    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    NOT_EXISTS = "!"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: Op
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        if self.op is Op.EXISTS:
            return value is not None
        if self.op is Op.NOT_EXISTS:
            return value is None
        if self.op in (Op.EQUALS, Op.IN):
            return value is not None and value in self.values
        return value is None or value not in self.values  # != and notin match an absent label

    def __str__(self) -> str:
        if self.op is Op.EXISTS:
            return self.key
        if self.op is Op.NOT_EXISTS:
            return f"!{self.key}"
        if self.op in (Op.EQUALS, Op.NOT_EQUALS):
            return f"{self.key}{self.op.value}{next(iter(self.values))}"
        return f"{self.key} {self.op.value} ({','.join(sorted(self.values))})"


@dataclass(frozen=True)
class Selector:
    """A parsed label selector: every requirement must match."""

    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(req.matches(labels) for req in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(req) for req in self.requirements)


def parse_selector(text: str) -> Selector:
    """Parse a Kubernetes label selector. Raises ValueError naming what is wrong."""
    tokens = list(_tokens(text))
    if not tokens:
        raise ValueError("empty label selector")
    requirements = []
    pos = 0
    while True:
        requirement, pos = _requirement(tokens, pos, text)
        requirements.append(requirement)
        if pos >= len(tokens):
            return Selector(tuple(requirements))
        if tokens[pos] != ",":
            raise ValueError(f'invalid label selector "{text}": unexpected "{tokens[pos]}"')
        pos += 1


def _tokens(text: str) -> Iterator[str]:
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            return
        match = _TOKEN.match(text, pos)
        if match is None:  # pragma: no cover - the pattern accepts any non-space character
            raise ValueError(f'invalid label selector "{text}"')
        yield match["op"] or match["word"]
        pos = match.end()


def _requirement(tokens: list[str], pos: int, text: str) -> tuple[Requirement, int]:
    def at(i: int) -> str:
        return tokens[i] if i < len(tokens) else ""

    if at(pos) == "!":
        return Requirement(_key(at(pos + 1), text), Op.NOT_EXISTS), pos + 2
    key = _key(at(pos), text)
    op = at(pos + 1)
    if op in ("", ","):
        return Requirement(key, Op.EXISTS), pos + 1
    if op in ("=", "==", "!="):
        value = at(pos + 2)
        if value in ("", ","):
            value, end = "", pos + 2  # "key=" selects an empty value, as in Kubernetes
        else:
            end = pos + 3
        return Requirement(
            key, Op.NOT_EQUALS if op == "!=" else Op.EQUALS, _values([value], text)
        ), end
    if op in ("in", "notin"):
        values, end = _value_set(tokens, pos + 2, text)
        return Requirement(key, Op.IN if op == "in" else Op.NOT_IN, values), end
    raise ValueError(f'invalid label selector "{text}": unknown operator "{op}" after "{key}"')


def _value_set(tokens: list[str], pos: int, text: str) -> tuple[frozenset[str], int]:
    if pos >= len(tokens) or tokens[pos] != "(":
        raise ValueError(f'invalid label selector "{text}": expected "(" after in/notin')
    values: list[str] = []
    pos += 1
    while True:
        value = tokens[pos] if pos < len(tokens) else ""
        if value in ("", "(", ")", ",", "=", "==", "!=", "!"):
            raise ValueError(f'invalid label selector "{text}": expected a value in "(...)"')
        values.append(value)
        closer = tokens[pos + 1] if pos + 1 < len(tokens) else ""
        pos += 2
        if closer == ")":
            break
        if closer != ",":
            raise ValueError(f'invalid label selector "{text}": expected "," or ")" in a value set')
    return _values(values, text), pos


def _key(token: str, text: str) -> str:
    if not token or token in ("=", "==", "!=", "!", "(", ")", ","):
        raise ValueError(f'invalid label selector "{text}": expected a label key')
    problem = label_key_problem(token)
    if problem:
        raise ValueError(f'invalid label selector "{text}": {problem}')
    return token


def _values(values: Iterable[str], text: str) -> frozenset[str]:
    for value in values:
        problem = label_value_problem(value)
        if problem:
            raise ValueError(f'invalid label selector "{text}": {problem}')
    return frozenset(values)


def label_key_problem(key: str) -> str:
    """Why ``key`` is not a valid Kubernetes label key ("" when it is)."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _PREFIX.fullmatch(prefix)):
        return f'invalid label key "{key}": the prefix must be a DNS subdomain'
    if len(name) > 63 or not _NAME.fullmatch(name):
        return (
            f'invalid label key "{key}": up to 63 letters, digits, "-", "_" or ".", '
            "starting and ending with a letter or digit"
        )
    return ""


def label_value_problem(value: str) -> str:
    """Why ``value`` is not a valid Kubernetes label value ("" when it is)."""
    if value and (len(value) > 63 or not _NAME.fullmatch(value)):
        return (
            f'invalid label value "{value}": up to 63 letters, digits, "-", "_" or ".", '
            "starting and ending with a letter or digit"
        )
    return ""


# --- namespace-name globs -------------------------------------------------------------------------


def glob_problem(pattern: str) -> str:
    """Why ``pattern`` cannot match any namespace name ("" when it is a usable glob)."""
    if not pattern:
        return "empty glob"
    if not _GLOB.fullmatch(pattern):
        return (
            f'invalid glob "{pattern}": namespace names use lowercase letters, digits and "-"; '
            'globs add "*", "?" and "[...]"'
        )
    depth = 0
    for char in pattern:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth not in (0, 1):
            return f'invalid glob "{pattern}": unbalanced "[" and "]"'
    if depth:
        return f'invalid glob "{pattern}": unclosed "["'
    return ""


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    """True when ``name`` matches one of the shell globs (case-sensitive, like Kubernetes names)."""
    return any(fnmatchcase(name, pattern) for pattern in patterns)
