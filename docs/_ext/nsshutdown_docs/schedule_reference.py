"""The schedule file reference, generated from the pydantic models that validate the file.

``collect()`` walks the models reachable from the root model (the file as written, in
``nsshutdown.schedule.config``) and returns, for each, the YAML path where it appears and its
fields: the key as written in YAML (the alias), the type, the default and the description.

A description comes from the field itself (``Field(description=...)``) or, failing that, from
``docs/reference/schedule-fields.yaml``, keyed by YAML path. A field added to a model shows up here
with no further work, and ``problems()`` reports (as build warnings, so ``-W`` fails) a field that
has no description anywhere and a description whose field no longer exists.
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import importlib
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from nsshutdown.timeutil import format_duration
from nsshutdown_docs import markup

#: The model ``load_schedule_text`` validates the YAML document with.
ROOT_MODEL = "nsshutdown.schedule.config:_ScheduleSpec"
#: Descriptions of fields that do not carry their own, keyed by YAML path.
DESCRIPTIONS_FILE = Path(__file__).resolve().parents[2] / "reference" / "schedule-fields.yaml"
#: How the named value types of ``nsshutdown.schedule.fields`` read in a YAML reference.
ALIAS_TYPES = {
    "TimeZoneName": "IANA time zone name (`Europe/Madrid`, `UTC`)",
    "CronExpr": "cron expression, 5 fields (`0 20 * * 1-5`), local time",
    "Duration": "duration (`15m`, `2h`, `1d`, `1h30m`)",
    "Glob": "shell glob (`dev-*`, `team-?`)",
    "RuleName": "name: 1-63 letters, digits, `-`, `_` or `.`, starting with a letter",
    "SelectorField": "label selector, `kubectl -l` syntax (`env in (dev,qa)`)",
}
#: The module whose ``Annotated`` aliases ``ALIAS_TYPES`` names.
ALIAS_MODULE = "nsshutdown.schedule.fields"

_SCALARS = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dt.timedelta: "duration (`15m`, `2h`, `1d`, `1h30m`)",
    dt.date: "date (`YYYY-MM-DD`)",
    dt.datetime: "time (RFC 3339, with offset)",
    dt.time: "time of day (`HH:MM`)",
}
_SEQUENCES = (list, tuple, set, frozenset)


@dataclass(frozen=True)
class FieldDoc:
    key: str
    python_name: str
    type: str  # markup
    required: bool
    default: str | None
    description: str


@dataclass(frozen=True)
class ModelDoc:
    model: type
    path: str  # YAML path of the object, "" for the top level
    description: str
    forbids_extra: bool
    fields: tuple[FieldDoc, ...]

    @property
    def label(self) -> str:
        return markup.slug("schedule", self.path or "top-level")

    @property
    def title(self) -> str:
        return markup.code(self.path) if self.path else "Top level"


def load_root(spec: str = ROOT_MODEL) -> type:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def load_descriptions(path: Path = DESCRIPTIONS_FILE) -> dict[str, str]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key): " ".join(str(value).split()) for key, value in data.items()}


def collect(
    root: type | None = None, *, descriptions: Mapping[str, str] | None = None
) -> list[ModelDoc]:
    """Every model reachable from ``root``, breadth first, each at the first path it appears."""
    root = load_root() if root is None else root
    descriptions = load_descriptions() if descriptions is None else descriptions
    aliases = _alias_names()
    paths: dict[type, str] = {root: ""}
    queue: list[type] = [root]
    while queue:
        model = queue.pop(0)
        hints = _hints(model)
        for key, (name, _info) in _fields(model).items():
            for nested, suffix in _nested_models(hints[name]):
                if nested not in paths:
                    paths[nested] = _join(paths[model], key) + suffix
                    queue.append(nested)
    return [
        _model_doc(model, path, paths, descriptions=descriptions, aliases=aliases)
        for model, path in paths.items()
    ]


def problems(models: list[ModelDoc], descriptions: Mapping[str, str] | None = None) -> list[str]:
    """Documentation gaps the build must not accept."""
    descriptions = load_descriptions() if descriptions is None else descriptions
    found = []
    for model in models:
        for f in model.fields:
            if not f.description:
                where = _join(model.path, f.key)
                found.append(
                    f"schedule field {where!r} ({model.model.__name__}.{f.python_name}) has no "
                    f"description: add one in {DESCRIPTIONS_FILE.name} or with "
                    "Field(description=...) in the model"
                )
    for stale in sorted(set(descriptions) - set(all_keys(models))):
        found.append(f"{DESCRIPTIONS_FILE.name} describes {stale!r}, which no model has")
    return found


def all_keys(models: list[ModelDoc]) -> list[str]:
    """Every key as a YAML path, e.g. ``schedules[].windows[].shutdown``."""
    return [_join(m.path, f.key) for m in models for f in m.fields]


def _fields(model: type) -> dict[str, tuple[str, Any]]:
    """YAML key -> (Python name, pydantic FieldInfo)."""
    fields = model.model_fields  # type: ignore[attr-defined]
    return {_key(name, info): (name, info) for name, info in fields.items()}


def _hints(model: type) -> dict[str, Any]:
    """Field annotations with their ``Annotated`` aliases intact (pydantic strips them)."""
    names = set(model.model_fields)  # type: ignore[attr-defined]
    hints: dict[str, Any] = {}
    for klass in reversed(model.__mro__):
        namespace = vars(sys.modules[klass.__module__])
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if name in names:
                hints[name] = (
                    eval(annotation, namespace, dict(vars(klass)))  # noqa: S307 - the code's own annotations
                    if isinstance(annotation, str)
                    else annotation
                )
    return hints


def _alias_names() -> dict[int, str]:
    """id() of each ``Annotated`` alias in the field-types module -> its name."""
    try:
        module = importlib.import_module(ALIAS_MODULE)
    except ImportError:
        return {}
    return {
        id(value): name
        for name, value in vars(module).items()
        if typing.get_origin(value) is typing.Annotated
    }


def _key(name: str, info: Any) -> str:
    alias = info.validation_alias or info.alias
    if isinstance(alias, str):
        return alias
    # AliasChoices: the first spelling is the documented one
    choices = getattr(alias, "choices", None)
    if choices and isinstance(choices[0], str):
        return str(choices[0])
    return name


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "model_fields")


def _strip(tp: Any) -> Any:
    """Drop ``Annotated`` metadata and follow ``type X = ...`` aliases."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif hasattr(tp, "__value__"):
            tp = tp.__value__
        else:
            return tp


def _nested_models(tp: Any, suffix: str = "") -> list[tuple[type, str]]:
    tp = _strip(tp)
    if _is_model(tp):
        return [(tp, suffix)]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in _SEQUENCES or origin in (typing.Sequence, _abc("Sequence"), _abc("Set")):
        return [
            m for arg in args if arg is not Ellipsis for m in _nested_models(arg, suffix + "[]")
        ]
    if origin in (dict, typing.Mapping, _abc("Mapping")):
        return list(_nested_models(args[-1], suffix + ".*")) if args else []
    return [m for arg in args for m in _nested_models(arg, suffix)]


def _abc(name: str) -> Any:
    return getattr(collections.abc, name)


def describe_type(  # noqa: PLR0911 - one return per kind of type
    tp: Any, paths: Mapping[type, str], aliases: Mapping[int, str] | None = None
) -> str:
    """A type as markup for readers of a YAML file."""
    aliases = aliases or {}
    alias = aliases.get(id(tp))
    if alias in ALIAS_TYPES:
        return markup.inline(ALIAS_TYPES[alias])
    if alias and typing.get_origin(_strip(tp)) is not None:  # e.g. Kinds: describe what it holds
        return describe_type(_strip(tp), paths, aliases)
    tp = _strip(tp)
    if tp is type(None):
        return "null"
    if _is_model(tp):
        doc_path = paths.get(tp, "")
        label = markup.slug("schedule", doc_path or "top-level")
        return f"object, see {{ref}}`{doc_path or 'top level'} <{label}>`"
    if isinstance(tp, type) and issubclass(tp, Enum):
        return "one of " + ", ".join(markup.code(str(m.value)) for m in tp)
    if isinstance(tp, type) and tp in _SCALARS:
        return markup.inline(_SCALARS[tp])
    if isinstance(tp, type) and tp.__name__ == "ZoneInfo":
        return "IANA time zone name (`Europe/Madrid`)"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(markup.code(str(a)) for a in args)
    if origin in (typing.Union, types.UnionType):
        options = [describe_type(a, paths, aliases) for a in args if a is not type(None)]
        return " or ".join(options)
    if origin in _SEQUENCES or origin in (_abc("Sequence"), _abc("Set")):
        items = [a for a in args if a is not Ellipsis]
        return "list of " + (describe_type(items[0], paths, aliases) if items else "values")
    if origin in (dict, _abc("Mapping")):
        key, value = (describe_type(a, paths, aliases) for a in args)
        return f"map of {key} to {value}"
    return markup.escape(getattr(tp, "__name__", str(tp)))


def render_value(value: Any) -> str:  # noqa: PLR0911 - one return per kind of value
    """A default as it would be written in YAML."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return "[" + ", ".join(render_value(v) for v in items) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {render_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    return str(value)


def _default(info: Any) -> str | None:
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    if value is None:
        return ""
    if _is_model(type(value)):
        return "(an object with the defaults below)"
    return render_value(value)


def _model_doc(
    model: type,
    path: str,
    paths: Mapping[type, str],
    *,
    descriptions: Mapping[str, str],
    aliases: Mapping[int, str],
) -> ModelDoc:
    hints = _hints(model)
    fields = tuple(
        FieldDoc(
            key=key,
            python_name=name,
            type=describe_type(hints[name], paths, aliases),
            required=info.is_required(),
            default=_default(info),
            description=(info.description or descriptions.get(_join(path, key), "")).strip(),
        )
        for key, (name, info) in _fields(model).items()
    )
    config = getattr(model, "model_config", {})
    doc = model.__doc__ or ""
    if doc.startswith(f"{model.__name__}(") or "Usage docs:" in doc:  # pydantic's inherited text
        doc = ""
    return ModelDoc(model, path, doc, config.get("extra") == "forbid", fields)


# --- rendering ----------------------------------------------------------------------------------


def render(models: list[ModelDoc], *, level: int = 2) -> list[str]:
    lines: list[str] = []
    for model in models:
        lines += markup.heading(level, model.title, label=model.label)
        for paragraph in markup.paragraphs(model.description):
            lines += [paragraph, ""]
        if model.forbids_extra:
            lines += ["Any key not listed here is an error.", ""]
        lines += markup.table(
            ["Key", "Type", "Default", "Description"],
            [
                [
                    markup.code(f.key),
                    f.type,
                    _default_cell(f),
                    markup.inline(f.description),
                ]
                for f in model.fields
            ],
        )
    return lines


def _default_cell(f: FieldDoc) -> str:
    if f.required:
        return "**required**"
    if not f.default:
        return "not set"
    if f.default.startswith("("):
        return markup.escape(f.default.strip("()"))
    return markup.code(f.default)
