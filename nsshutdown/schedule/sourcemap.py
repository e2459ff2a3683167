"""YAML with line numbers: every problem in a schedule is reported as ``file:line: path: message``.

PyYAML's constructed data forgets where each value came from, so the document is first composed
into its node tree, the line of every key and list item is recorded under its field path, and only
then is it turned into plain Python data. Pydantic reports errors by field path, which this map
turns back into the line a person has to edit. Duplicate keys, which PyYAML silently resolves to
the last one, are reported as problems here too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

Path = tuple[str | int, ...]

#: A schedule this big is a mistake or an attack: it fits a ConfigMap (1 MiB) with room to spare.
MAX_VALUES = 100_000
#: Nesting deeper than this is never a schedule (the real format is 6 levels deep).
MAX_DEPTH = 32
#: libyaml's parser when PyYAML was built with it (4x faster on a large file), else PyYAML's own;
#: both give the same nodes, marks and errors.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    line: int | None = None  # when known better than the path's line (e.g. a duplicate key)


@dataclass
class Document:
    """The parsed YAML data plus the line (1-based) of every field path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that exists (a missing key's parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


class YamlSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def parse(text: str) -> Document:
    """Parse one YAML document. Raises :class:`YamlSyntaxError` (with its line) on bad YAML.

    Bounded whatever the input: nesting deeper than :data:`MAX_DEPTH` and documents that expand
    (through aliases) to more than :data:`MAX_VALUES` values are refused before anything walks
    or builds them, so an alias bomb costs milliseconds, not gigabytes.
    """
    depth = _flow_depth(text)
    if depth > MAX_DEPTH:
        raise YamlSyntaxError(1, f"nested deeper than {MAX_DEPTH} levels")
    try:
        loader = _LOADER(text)  # PyYAML's reader checks the characters here, libyaml's later
    except yaml.YAMLError as err:
        raise _syntax_error(err, text) from None
    try:
        node = loader.get_single_node()
        doc = Document(data=None)
        if node is not None:
            _check_bounds(node)
            doc.lines[()] = node.start_mark.line + 1
            _walk(node, (), doc)
            doc.data = loader.construct_document(node)
        return doc
    except RecursionError:
        raise YamlSyntaxError(1, f"nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as err:
        raise _syntax_error(err, text) from None
    finally:
        loader.dispose()


def _syntax_error(err: yaml.YAMLError, text: str) -> YamlSyntaxError:
    """The error with the line it is on: from its mark, or (a bad character) its offset."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        detail = err.problem or err.context or "syntax error"
        if err.problem and err.context:
            detail += f" ({err.context})"
        return YamlSyntaxError(line, f"invalid YAML: {detail}")
    position = getattr(err, "position", 0)  # a ReaderError knows its character offset only
    line = text[:position].count("\n") + 1 if isinstance(position, int) else 1
    return YamlSyntaxError(line, f"invalid YAML: {_first_line(err)}")


_NOT_BRACKETS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|#[^\n]*""")
_BRACKETS = re.compile(r"[\[\]{}]")


def _flow_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest outside quotes and comments, counted before YAML sees them.

    PyYAML's scanner slows down with every open flow level (thousands of ``[`` take seconds) and
    its composer recurses once per level, so depth is bounded before either runs.
    """
    depth = deepest = 0
    for match in _BRACKETS.finditer(_NOT_BRACKETS.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _first_line(err: yaml.YAMLError) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _check_bounds(root: yaml.Node) -> None:
    """Refuse a node graph nested deeper than MAX_DEPTH or expanding to more than MAX_VALUES.

    An alias is the same node object reached twice, so (size, height) is memoised per node: the
    check costs one visit per distinct node, while the expanded size is what a walk would cost.
    """
    seen: dict[int, tuple[int, int]] = {}

    def measure(node: yaml.Node) -> tuple[int, int]:
        known = seen.get(id(node))
        if known is not None:
            return known
        seen[id(node)] = (MAX_VALUES + 1, MAX_DEPTH + 1)  # a node inside itself: refuse
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        size, height = 1, 0
        for child in children:
            child_size, child_height = measure(child)
            size, height = size + child_size, max(height, child_height + 1)
            line = node.start_mark.line + 1
            if height > MAX_DEPTH:
                raise YamlSyntaxError(line, f"nested deeper than {MAX_DEPTH} levels")
            if size > MAX_VALUES:
                message = f"the document expands to more than {MAX_VALUES} values (aliases?)"
                raise YamlSyntaxError(line, message)
        seen[id(node)] = (size, height)
        return size, height

    measure(root)


def _walk(node: yaml.Node, path: Path, doc: Document) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                message = f'duplicate key "{key}" (first at line {seen[key]})'
                doc.problems.append(Problem((*path, key), message, line))
                continue
            seen[key] = line
            doc.lines[(*path, key)] = line
            _walk(value_node, (*path, key), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), doc)


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(document)"


def problem_details(source: str, doc: Document, problem: Problem) -> dict[str, object]:
    """A problem for machines: the file, the line, the field path and the message."""
    line = doc.line_of(problem.path) if problem.line is None else problem.line
    field = format_path(problem.path) if problem.path else ""
    return {"file": source, "line": line, "field": field, "message": problem.message}


def format_problem(source: str, doc: Document, problem: Problem) -> str:
    line = doc.line_of(problem.path) if problem.line is None else problem.line
    return f"{source}:{line}: {format_path(problem.path)}: {problem.message}"


# --- pydantic errors -> problems ------------------------------------------------------------------


def validation_problems(err: ValidationError, model: type[BaseModel]) -> list[Problem]:
    return [_problem(detail, model) for detail in err.errors(include_url=False)]


def _problem(detail: ErrorDetails, model: type[BaseModel]) -> Problem:
    path: Path = tuple(part for part in detail["loc"] if _is_field(part))
    kind = detail["type"]
    if kind == "missing":
        return Problem(path, "missing required key")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, path[:-1])
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.7)
        hint = f' (did you mean "{close[0]}"?){hint}' if close else hint
        return Problem(path, f'unknown key "{path[-1]}"{hint}')
    if kind == "value_error":
        return Problem(path, str(detail.get("ctx", {}).get("error", detail["msg"])))
    message = _PLAIN.get(kind, detail["msg"])
    message = message[:1].lower() + message[1:]
    return Problem(path, f"{message}, got {_show(detail['input'])}")


# Pydantic's wording names Python types; a schedule's author thinks in YAML.
_PLAIN = {
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
    "string_type": "expected a string",
}


def _is_field(part: str | int) -> bool:
    # pydantic adds segments such as "function-before[...]" for validators; they are not keys
    return isinstance(part, int) or "[" not in part


def _show(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _allowed_keys(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """The keys the model at ``path`` accepts, to suggest the right spelling of an unknown key."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        info = _fields_by_key(current).get(part)
        current = _model_in(info.annotation) if info is not None else None
    return sorted(_fields_by_key(current)) if current is not None else []


def _fields_by_key(model: type[BaseModel]) -> dict[str, Any]:
    return {info.alias or name: info for name, info in model.model_fields.items()}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in _type_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _type_args(annotation: Any) -> Iterable[Any]:
    return getattr(annotation, "__args__", ())
