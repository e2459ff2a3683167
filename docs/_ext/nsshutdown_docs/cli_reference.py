"""The CLI reference, generated from the Typer application's command tree.

``collect()`` walks the Click command tree that Typer builds (``typer.main.get_command``) and
returns plain data; ``render()`` turns it into MyST. Tests use the data to check that every command
and option is documented, so a new option cannot ship without reference docs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import PurePath
from typing import Any

import typer.main

from nsshutdown_docs import markup

#: The module whose ``app`` is the Typer application with every command registered.
CLI_MODULE = "nsshutdown.cli.main"
PROGRAM = "nsshutdown"

_TYPE_NAMES = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "FLOAT",
    "bool": "BOOLEAN",
    "file": "FILE",
    "path": "PATH",
    "directory": "DIRECTORY",
    "datetime": "DATETIME",
}


@dataclass(frozen=True)
class ParamDoc:
    name: str
    kind: str  # "option" or "argument"
    opts: tuple[str, ...]
    secondary_opts: tuple[str, ...] = ()
    metavar: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    multiple: bool = False
    is_flag: bool = False
    default: str | None = None
    envvars: tuple[str, ...] = ()
    help: str = ""

    @property
    def signatures(self) -> tuple[str, ...]:
        """How the parameter is written on the command line, one entry per spelling."""
        if self.kind == "argument":
            suffix = "..." if self.multiple and not self.metavar.rstrip("]").endswith("...") else ""
            return (f"{self.metavar}{suffix}",)
        longest_first = sorted(self.opts, key=lambda opt: (not opt.startswith("--"), opt))
        if self.is_flag:
            return (*longest_first, *self.secondary_opts)
        return tuple(f"{opt} {self.metavar}" for opt in longest_first)


@dataclass(frozen=True)
class CommandDoc:
    path: tuple[str, ...]
    help: str = ""
    short_help: str = ""
    usage: str = ""
    deprecated: bool = False
    params: tuple[ParamDoc, ...] = ()
    subcommands: tuple[CommandDoc, ...] = field(default=())

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def walk(self) -> Iterator[CommandDoc]:
        yield self
        for sub in self.subcommands:
            yield from sub.walk()


def load_command() -> Any:
    """The Click command behind ``nsshutdown``: the CLI module's ``app`` has every command."""
    return typer.main.get_command(importlib.import_module(CLI_MODULE).app)


def collect(command: Any | None = None, *, program: str = PROGRAM) -> CommandDoc:
    """Every visible command and parameter, as data."""
    command = load_command() if command is None else command
    ctx = command.context_class(command, info_name=program, **command.context_settings)
    return _command(command, ctx, (program,))


def _command(command: Any, ctx: Any, path: tuple[str, ...]) -> CommandDoc:
    subcommands = []
    list_commands = getattr(command, "list_commands", None)
    if list_commands is not None:
        for name in list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            sub_ctx = type(ctx)(sub, info_name=name, parent=ctx, **sub.context_settings)
            subcommands.append(_command(sub, sub_ctx, (*path, name)))
    params = tuple(
        _param(param, ctx)
        for param in command.get_params(ctx)
        if not getattr(param, "hidden", False)
    )
    return CommandDoc(
        path=path,
        help=command.help or "",
        short_help=command.get_short_help_str(limit=300),
        usage=command.get_usage(ctx).removeprefix("Usage:").strip(),
        deprecated=bool(getattr(command, "deprecated", False)),
        params=params,
        subcommands=tuple(subcommands),
    )


def _param(param: Any, ctx: Any) -> ParamDoc:
    kind = "argument" if param.param_type_name == "argument" else "option"
    is_flag = bool(getattr(param, "is_flag", False))
    label, choices = _type_label(param, ctx)
    metavar = param.metavar or (
        (param.name or "").upper() if kind == "argument" else (f"[{label}]" if choices else label)
    )
    return ParamDoc(
        name=param.name or "",
        kind=kind,
        opts=tuple(param.opts),
        secondary_opts=tuple(param.secondary_opts),
        metavar="" if is_flag else metavar,
        choices=choices,
        required=bool(param.required),
        multiple=bool(param.multiple or param.nargs == -1),
        is_flag=is_flag,
        default=_default(param, is_flag=is_flag),
        envvars=_envvars(param, ctx),
        help=getattr(param, "help", None) or "",
    )


def _type_label(param: Any, ctx: Any) -> tuple[str, tuple[str, ...]]:
    """The value's type as the reader should type it, and the allowed values of a choice."""
    display_type = getattr(param, "display_type", None)
    if callable(display_type):  # Typer's own parameter classes
        label = display_type(ctx).strip("<>")
        if label.startswith("list[") and label.endswith("]"):
            label = label[5:-1]
    else:  # plain Click
        param_type = param.type
        choices = getattr(param_type, "choices", None)
        label = "|".join(str(_plain(c)) for c in choices) if choices else param_type.name
    if "|" in label:
        return label, tuple(label.split("|"))
    label = label.removesuffix(" range")  # Typer's "int range": the bounds are in the help
    return _TYPE_NAMES.get(label.lower(), label.upper()), ()


def _envvars(param: Any, ctx: Any) -> tuple[str, ...]:
    if not param.expose_value or param.is_eager:  # --help, --version: about this invocation only
        return ()
    if param.envvar:
        return (param.envvar,) if isinstance(param.envvar, str) else tuple(param.envvar)
    prefix = ctx.auto_envvar_prefix
    if getattr(param, "allow_from_autoenv", False) and prefix and param.name:
        return (f"{prefix}_{param.name.upper()}",)
    return ()


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    return value


def _default(param: Any, *, is_flag: bool) -> str | None:  # noqa: PLR0911 - one case each
    show = getattr(param, "show_default", True)
    if isinstance(show, str):
        return show
    if show is False or not param.expose_value or param.required:
        return None
    value = param.default
    if callable(value):
        return "(computed at run time)"
    if type(value).__name__ in ("Sentinel", "_Unset") or value is None:
        return None
    if is_flag:
        if param.secondary_opts:
            return param.opts[0] if value else param.secondary_opts[0]
        return None if value is False else "on"
    if isinstance(value, list | tuple):
        return ", ".join(str(_plain(v)) for v in value) or None
    return str(_plain(value))


# --- rendering ----------------------------------------------------------------------------------


def label_for(command: CommandDoc) -> str:
    """The ``{ref}`` target of a command's section, e.g. ``cli-nsshutdown-plan``."""
    return markup.slug("cli", *command.path)


def render(root: CommandDoc, *, level: int = 2) -> list[str]:
    """The whole reference: a summary table, then one section per command."""
    lines = markup.heading(level, "Commands", label="cli-commands")
    lines += markup.table(
        ["Command", "What it does"],
        [
            [f"{{ref}}`{c.name} <{label_for(c)}>`", markup.first_sentence(c.help)]
            for c in root.walk()
            if c is not root
        ],
    )
    for command in root.walk():
        lines += _render_command(command, level=level)
    return lines


def _render_command(command: CommandDoc, *, level: int) -> list[str]:
    lines = markup.heading(level, markup.code(command.name), label=label_for(command))
    lines += markup.fence("program", command.name)
    if command.deprecated:
        lines += ["**Deprecated.**", ""]
    lines += ["```text", f"{command.usage}", "```", ""]
    for paragraph in markup.paragraphs(command.help):
        lines += [paragraph, ""]
    lines += _render_params(command, "argument", "Arguments", level + 1)
    lines += _render_params(command, "option", "Options", level + 1)
    return lines


def _render_params(command: CommandDoc, kind: str, title: str, level: int) -> list[str]:
    params = [p for p in command.params if p.kind == kind]
    if not params:
        return []
    lines = [f"**{title}**", ""]
    for param in params:
        lines += markup.fence("option", ", ".join(param.signatures), _param_body(param))
    return lines


def _param_body(param: ParamDoc) -> Sequence[str]:
    body = [f"{p}\n" for p in markup.paragraphs(param.help)]
    facts = []
    if param.required:
        facts.append("required")
    if param.choices:
        facts.append("one of " + ", ".join(markup.code(c) for c in param.choices))
    if param.multiple:
        facts.append("may be repeated")
    if param.default is not None:
        facts.append(f"default {markup.code(param.default)}")
    if param.envvars:
        facts.append("environment " + ", ".join(markup.code(e) for e in param.envvars))
    if facts:
        body.append(_sentence(facts))
    return body


def _sentence(facts: list[str]) -> str:
    text = "; ".join(facts)
    return text[:1].upper() + text[1:] + "."
