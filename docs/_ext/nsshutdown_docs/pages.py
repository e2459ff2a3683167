"""Reading the documentation's own sources: pages, code blocks and the runnable-command convention.

Used by the docs accuracy tests. Parsing goes through markdown-it, the parser MyST itself uses, so
a block is found exactly when Sphinx would render one.

Runnable commands: a ``console`` code block preceded by an HTML comment marker is run by the test
suite. Each line starting with ``$ `` is a command (a trailing ``\\`` continues it on the next
line); the lines after a command, up to the next command, are output it must print. A command
without output lines only has to exit 0. The markers (see "Writing the documentation"):

- ``<!-- runnable -->``: the offline tier (tests/static), no cluster: ``nsshutdown validate``,
  ``plan --namespace``, ``--help``, and ``kubectl kustomize``, ``mkdir``, ``cp``, ``cd`` (see
  ``OFFLINE_PROGRAMS``);
- ``<!-- runnable cluster=SETUP [now=TIME] -->``: the cluster tier (tests/integration), on a fresh
  API server holding ``docs/examples-data/SETUP`` (a kustomization), with the clock fixed at
  ``TIME`` (``DEFAULT_NOW`` when not given);
- ``<!-- not runnable: REASON -->``: never run, for the reason given.

Every console block carries one of them.

Output lines are compared with runs of whitespace collapsed; they must be the whole output, in
order (a forgotten legend or note fails), except where a ``...`` line skips any lines.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

DOCS = Path(__file__).resolve().parents[2]
ROOT = DOCS.parent
RUNNABLE_MARKER = "<!-- runnable -->"
#: The markers: ``<!-- runnable [cluster=NAME now=TIME] -->`` and ``<!-- not runnable: why -->``.
_MARKER = re.compile(
    r"^<!--\s*(?:runnable(?P<options>(?:\s+[\w-]+=\S+)*)|not runnable:(?P<why>.*?))\s*-->$",
    re.DOTALL,
)
#: Where the cluster tier's setups live: one kustomization directory per name.
EXAMPLES_DATA = DOCS / "examples-data"
#: The cluster tier's clock when a marker gives none: a Friday evening in Madrid, as on the pages.
DEFAULT_NOW = "2026-11-27T21:00:00+01:00"
#: Languages of the blocks that show a terminal session, and so must carry a marker.
CONSOLE_LANGUAGES = frozenset({"console", "shell-session"})

#: Pages that hold only a generated reference: everything else is narrative.
GENERATED_PAGES = frozenset(
    {"reference/cli.md", "reference/schedule.md", "reference/metrics.md", "reference/api.md"}
)
#: Subcommands an offline runnable block may run: the ones that need no cluster.
RUNNABLE_COMMANDS = frozenset({"validate", "plan"})
#: Programs an offline block may run besides ``nsshutdown`` (``kubectl`` only as ``kustomize``).
OFFLINE_PROGRAMS = frozenset({"nsshutdown", "kubectl", "mkdir", "cp", "cd"})
#: Programs a cluster block may run.
CLUSTER_PROGRAMS = frozenset({"nsshutdown", "kubectl"})
#: Options that would make an otherwise offline command reach for a cluster.
CLUSTER_OPTIONS = frozenset({"--cluster", "--configmap", "--kubeconfig", "--context"})


@dataclass(frozen=True)
class CodeBlock:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    runnable: bool = False
    options: dict[str, str] = field(default_factory=dict, hash=False)
    #: ``offline`` or ``cluster`` when runnable; the cluster tier's setup and clock.
    tier: str = ""
    setup: str = ""
    now: str = ""
    #: Why the block is never run (``<!-- not runnable: ... -->``); empty when it is not so marked.
    not_runnable: str = ""
    #: The marker comment as written.
    marker: str = ""
    #: The block's position among the page's code blocks (stable when outputs are rewritten).
    index: int = 0

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class ConsoleCommand:
    block: CodeBlock
    line: int
    command: str
    expected: tuple[str, ...]
    #: The page lines (1-based, end excluded) of the output shown after the command.
    output_lines: tuple[int, int] = (0, 0)

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command, comments=True)

    @property
    def where(self) -> str:
        return f"{self.block.page.relative_to(ROOT)}:{self.line}"


def pages(*, include_generated: bool = True) -> list[Path]:
    """Every MyST page of the site (``_build`` aside), sorted."""
    found = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts)
    if include_generated:
        return found
    return [p for p in found if p.relative_to(DOCS).as_posix() not in GENERATED_PAGES]


def narrative_pages() -> list[Path]:
    return pages(include_generated=False)


def page_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


_PARSER = MarkdownIt("commonmark")


def code_blocks(path: Path) -> list[CodeBlock]:
    """Fenced code blocks: plain fences (language from the info string) and ``{code-block}``."""
    blocks: list[CodeBlock] = []
    tokens = _PARSER.parse(page_text(path))
    for index, token in enumerate(tokens):
        if token.type != "fence" or token.map is None:
            continue
        info = token.info.strip()
        text, options = token.content, dict[str, str]()
        if info.startswith(("{code-block}", "{code}", "{sourcecode}")):
            language = info.partition("}")[2].strip()
            text, options = _directive_options(text)
        elif info.startswith("{"):
            continue  # another directive: not a code block
        else:
            language = info.split()[0] if info else ""
        previous = tokens[index - 1] if index else None
        comment = (
            previous.content.strip()
            if previous is not None and previous.type == "html_block"
            else ""
        )
        marker = _marker(comment)
        if "runnable" in options.get("class", "").split():
            marker = {"tier": "offline", **marker}
        blocks.append(
            CodeBlock(
                path,
                token.map[0] + 1,
                language,
                text,
                bool(marker.get("tier")),
                options,
                tier=marker.get("tier", ""),
                setup=marker.get("cluster", ""),
                now=marker.get("now", DEFAULT_NOW) if marker.get("tier") == "cluster" else "",
                not_runnable=marker.get("why", ""),
                marker=comment if comment.startswith("<!--") else "",
                index=len(blocks),
            )
        )
    return blocks


def _marker(comment: str) -> dict[str, str]:
    """The options of a runnable / not-runnable marker comment; empty when it is none."""
    match = _MARKER.match(comment)
    if match is None:
        return {}
    if match["why"] is not None:
        return {"why": " ".join(match["why"].split()) or "?"}
    options = dict(option.split("=", 1) for option in match["options"].split())
    options["tier"] = "cluster" if "cluster" in options else "offline"
    return options


def _directive_options(text: str) -> tuple[str, dict[str, str]]:
    options: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    while lines and (match := re.match(r"^:([\w-]+):\s*(.*)$", lines[0].rstrip("\n"))):
        options[match[1]] = match[2]
        lines.pop(0)
    return "".join(lines).lstrip("\n"), options


def sources() -> list[Path]:
    """Every page of the site, plus the README (the first page most people read)."""
    readme = ROOT / "README.md"
    return [*pages(), readme] if readme.is_file() else pages()


def all_code_blocks() -> Iterator[CodeBlock]:
    for source in sources():
        yield from code_blocks(source)


def console_commands(block: CodeBlock) -> list[ConsoleCommand]:
    """The ``$ `` commands of a console block, each with the output lines shown after it."""
    commands: list[ConsoleCommand] = []
    current: list[str] | None = None
    start = output = 0
    expected: list[str] = []
    raw = block.text.splitlines()
    for offset, line in enumerate(raw):
        if current is not None and current[-1].endswith("\\"):
            current[-1] = current[-1][:-1].rstrip()
            current.append(line.strip())
            output = offset + 1
            continue
        if line.startswith("$ "):
            if current is not None:
                commands.append(_command(block, start, current, expected, output))
            current, start, expected, output = [line[2:].strip()], offset, [], offset + 1
        elif current is not None:
            expected.append(line)
    if current is not None:
        commands.append(_command(block, start, current, expected, output))
    return commands


def _command(
    block: CodeBlock, offset: int, parts: list[str], expected: list[str], output: int = 0
) -> ConsoleCommand:
    while expected and not expected[-1].strip():
        expected.pop()
    first = block.line + 1 + (len(block.options) + 1 if block.options else 0)
    shown = (first + output, first + output + len(expected))
    command = " ".join(p for p in parts if p)
    return ConsoleCommand(block, first + offset, command, tuple(expected), shown)


def script_commands(block: CodeBlock) -> list[ConsoleCommand]:
    """The command lines of a shell script block (``sh``, ``bash``): no prompt, no output."""
    commands: list[ConsoleCommand] = []
    lines = block.text.splitlines()
    offset = 0
    while offset < len(lines):
        start, parts = offset, [lines[offset].strip()]
        while parts[-1].endswith("\\") and offset + 1 < len(lines):
            parts[-1] = parts[-1][:-1].rstrip()
            offset += 1
            parts.append(lines[offset].strip())
        offset += 1
        if parts[0] and not parts[0].startswith("#"):
            commands.append(_command(block, start, parts, []))
    return commands


def nsshutdown_commands() -> Iterator[ConsoleCommand]:
    """Every ``nsshutdown ...`` command line shown anywhere: ``$ `` lines of console blocks, and
    lines of shell script blocks that start with ``nsshutdown``."""
    for block in all_code_blocks():
        if block.language in ("console", "shell-session"):
            found = console_commands(block)
        elif block.language in ("sh", "bash", "shell", "zsh"):
            found = script_commands(block)
        else:
            continue
        yield from (c for c in found if c.command.split(" ", 1)[0] == "nsshutdown")


def output_matches(expected: tuple[str, ...], actual: str) -> bool:
    """``expected`` (see the module docstring) is the whole of ``actual``.

    Every line the command prints must be shown, in order, except where a ``...`` line stands
    for any number of lines; no expected output at all means the output is not compared.
    Whitespace runs compare equal, so column alignment may change without breaking the docs.
    """
    if not expected:
        return True
    lines = [normalise(line) for line in actual.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    position = 0
    anywhere = False
    for want in (normalise(line) for line in expected):
        if want == "...":
            anywhere = True
            continue
        if anywhere:
            while position < len(lines) and lines[position] != want:
                position += 1
            if position == len(lines):
                return False
        elif position >= len(lines) or lines[position] != want:
            return False
        position += 1
        anywhere = False
    return anywhere or position == len(lines)


#: What truly varies from one run to the next: how long a run took (``0.1 s``, ``12 ms``).
_DURATION = re.compile(r"\b\d+\.\d+ ?s\b|\b\d+ ?ms\b")


def normalise(line: str) -> str:
    """A line as compared: runs of whitespace as one space, measured durations as ``<duration>``."""
    return _DURATION.sub("<duration>", " ".join(line.split()))


def updated_output(expected: tuple[str, ...], actual: str) -> list[str]:
    """What to show for a command that now prints ``actual``, keeping the shape of ``expected``.

    The whole output, unless ``expected`` elides with one ``...``: then as many first and last lines
    as it showed around it.
    """
    lines = [line.rstrip() for line in actual.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if expected.count("...") != 1:
        return lines
    cut = expected.index("...")
    head, tail = cut, len(expected) - cut - 1
    if head + tail >= len(lines):
        return lines
    return [*lines[:head], "...", *(lines[len(lines) - tail :] if tail else [])]


def rewrite_output(command: ConsoleCommand, index: int, actual: str) -> None:
    """Replace the output shown after the ``index``-th command of its block with ``actual``.

    The page is read again, so earlier rewrites on the same page (which move lines) do not matter.
    """
    page = command.block.page
    block = code_blocks(page)[command.block.index]
    current = console_commands(block)[index]
    if current.command != command.command:
        raise RuntimeError(f"{command.where}: the page changed under the test")
    lines = page_text(page).splitlines(keepends=True)
    fence = lines[block.line - 1]
    indent = fence[: len(fence) - len(fence.lstrip())]
    start, end = current.output_lines
    shown = [
        f"{indent}{line}\n" if line else "\n" for line in updated_output(command.expected, actual)
    ]
    lines[start - 1 : end - 1] = shown
    page.write_text("".join(lines), encoding="utf-8")


#: Set (to anything but empty) to rewrite the documented outputs from what runs, instead of failing.
UPDATE_ENV = "UPDATE_DOCS"


def check_output(command: ConsoleCommand, index: int, actual: str) -> str | None:
    """Why ``actual`` is not what the docs show for ``command`` (the ``index``-th of its block).

    ``None`` when it matches; with ``UPDATE_DOCS`` set, a mismatch rewrites the page: ``None``.
    """
    if output_matches(command.expected, actual):
        return None
    if os.environ.get(UPDATE_ENV):
        rewrite_output(command, index, actual)
        return None
    return (
        f"{command.where}: `{command.command}` no longer prints what the docs show "
        f"(rerun with {UPDATE_ENV}=1 to rewrite the page from what runs).\n"
        "expected:\n" + "\n".join(command.expected) + f"\nactual:\n{actual}"
    )
