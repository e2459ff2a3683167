"""Which metrics, and which of their labels, a PromQL expression selects.

Not a parser: promtool decides whether an expression is valid. This is a tokenizer that knows
enough of the grammar (functions, aggregations and their ``by``/``without`` lists, vector matching
lists, label matchers, ranges and subqueries) to tell a metric name from every other identifier,
so dashboards and rules can be checked against the metrics the tool really emits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<number>(?:\d+(?:ms|s|m|h|d|w|y))+|0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,@(){}\[\]])
    """,
    re.VERBOSE,
)

# Identifiers that are never metric names where they stand.
KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"offset", "bool", "atan2", "inf", "nan"}
)
AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values"}
    | {"bottomk", "topk", "quantile"}
)
# Followed by a parenthesised list of label names, not an expression.
_LABEL_LIST_OPENERS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})


class PromQLSyntaxError(ValueError):
    """The expression cannot even be tokenized (promtool gives the real diagnosis)."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass
class Selector:
    """One vector selector: its metric name and the label names its matchers use."""

    metric: str
    labels: set[str] = field(default_factory=set)


def tokenize(expr: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None:
            raise PromQLSyntaxError(f"unexpected character {expr[pos]!r} at offset {pos}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group()))
        pos = match.end()
    return tokens


def _unquote(text: str) -> str:
    return text[1:-1]


def _matchers(tokens: list[Token], start: int) -> tuple[dict[str, str], int]:
    """Parse ``{name op "value", ...}`` from the ``{`` at ``start``; return (name->value, end)."""
    found: dict[str, str] = {}
    i = start + 1
    while i < len(tokens) and tokens[i].text != "}":
        tok = tokens[i]
        if tok.kind in ("ident", "string") and i + 2 < len(tokens):
            name = _unquote(tok.text) if tok.kind == "string" else tok.text
            value = tokens[i + 2]
            found[name] = _unquote(value.text) if value.kind == "string" else value.text
            i += 3
        else:
            i += 1
    if i >= len(tokens):
        raise PromQLSyntaxError("unclosed '{'")
    return found, i


def _skip_group(tokens: list[Token], start: int, opening: str, closing: str) -> int:
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].text == opening:
            depth += 1
        elif tokens[i].text == closing:
            depth -= 1
            if depth == 0:
                return i
    raise PromQLSyntaxError(f"unclosed {opening!r}")


def selectors(expr: str) -> list[Selector]:
    """Every vector selector in ``expr``, in order (``{__name__="x"}`` counts as metric ``x``)."""
    tokens = tokenize(expr)
    found: list[Selector] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if tok.kind == "ident":
            lowered = tok.text.lower()
            if tok.text in _LABEL_LIST_OPENERS and nxt == "(":
                i = _skip_group(tokens, i + 1, "(", ")") + 1
                continue
            if lowered in KEYWORDS or nxt == "(" or tok.text in AGGREGATIONS:
                i += 1
                continue
            selector = Selector(tok.text)
            if nxt == "{":
                matchers, end = _matchers(tokens, i + 1)
                selector.labels.update(matchers)
                i = end
            found.append(selector)
        elif tok.text == "{":
            matchers, end = _matchers(tokens, i)
            name = matchers.pop("__name__", "")
            found.append(Selector(name, set(matchers)))
            i = end
        elif tok.text == "[":
            i = _skip_group(tokens, i, "[", "]")
        i += 1
    return found


def metric_names(expr: str) -> set[str]:
    return {s.metric for s in selectors(expr) if s.metric}


_GRAFANA_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
# Grafana's built-in interval variables stand where PromQL wants a duration or a number.
_DURATION_VARIABLES = {"__interval": "1m", "__rate_interval": "2m", "__range": "1h"}
_NUMBER_VARIABLES = {"__interval_ms": "60000", "__range_s": "3600", "__range_ms": "3600000"}


def substitute_grafana_variables(expr: str) -> str:
    """Replace Grafana template variables with values that keep the PromQL valid.

    Interval variables become durations or numbers; any other variable (``$namespace``) stands
    inside a label matcher's string, where any text will do.
    """

    def replace(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name in _DURATION_VARIABLES:
            return _DURATION_VARIABLES[name]
        return _NUMBER_VARIABLES.get(name, "var")

    return _GRAFANA_VARIABLE.sub(replace, expr)


_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<args>.*)\)\s*$", re.DOTALL)
_QUERY_RESULT = re.compile(r"^\s*query_result\((?P<expr>.*)\)\s*$", re.DOTALL)


def template_query_expr(query: str) -> str | None:
    """The PromQL inside a Grafana Prometheus variable query, or None if it holds none.

    ``label_values(metric{...}, label)`` -> ``metric{...}``; ``label_values(label)`` -> None;
    ``query_result(expr)`` -> ``expr``; anything else is taken as PromQL.
    """
    if match := _LABEL_VALUES.match(query):
        args = match.group("args")
        depth = 0
        for pos, char in enumerate(args):
            depth += char in "({["
            depth -= char in ")}]"
            if char == "," and depth == 0:
                return args[:pos].strip()
        return None
    if match := _QUERY_RESULT.match(query):
        return match.group("expr").strip()
    return query.strip() or None
