"""Reading the documentation's own sources: pages, code blocks and the runnable-command convention.

Used by the docs accuracy tests. Parsing goes through markdown-it, the parser MyST itself uses, so
a block is found exactly when Sphinx would render one.

Runnable commands: a ``console`` code block preceded by the HTML comment ``<!-- runnable -->`` is
run by the test suite. Each line starting with ``$ `` is a command (a trailing ``\\`` continues
it on the next line); the lines after a command, up to the next command, are output it must print.
A command without output lines only has to exit 0. Only offline commands may be marked runnable
(see ``RUNNABLE_COMMANDS``).

Output lines are compared with runs of whitespace collapsed; they must be the whole output, in
order (a forgotten legend or note fails), except where a ``...`` line skips any lines.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

DOCS = Path(__file__).resolve().parents[2]
ROOT = DOCS.parent
RUNNABLE_MARKER = "<!-- runnable -->"

#: Pages that hold only a generated reference: everything else is narrative.
GENERATED_PAGES = frozenset(
    {"reference/cli.md", "reference/schedule.md", "reference/metrics.md", "reference/api.md"}
)
#: Subcommands a runnable block may run: offline ones only, so the tests never need a cluster.
RUNNABLE_COMMANDS = frozenset({"validate", "plan"})
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

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class ConsoleCommand:
    block: CodeBlock
    line: int
    command: str
    expected: tuple[str, ...]

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
    blocks = []
    tokens = _PARSER.parse(page_text(path))
    for index, token in enumerate(tokens):
        if token.type != "fence" or token.map is None:
            continue
        info = token.info.strip()
        text, options = token.content, {}
        if info.startswith(("{code-block}", "{code}", "{sourcecode}")):
            language = info.partition("}")[2].strip()
            text, options = _directive_options(text)
        elif info.startswith("{"):
            continue  # another directive: not a code block
        else:
            language = info.split()[0] if info else ""
        previous = tokens[index - 1] if index else None
        marked = (
            previous is not None
            and previous.type == "html_block"
            and previous.content.strip() == RUNNABLE_MARKER
        )
        runnable = marked or "runnable" in options.get("class", "").split()
        blocks.append(CodeBlock(path, token.map[0] + 1, language, text, runnable, options))
    return blocks


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
    start = 0
    expected: list[str] = []
    raw = block.text.splitlines()
    for offset, line in enumerate(raw):
        if current is not None and current[-1].endswith("\\"):
            current[-1] = current[-1][:-1].rstrip()
            current.append(line.strip())
            continue
        if line.startswith("$ "):
            if current is not None:
                commands.append(_command(block, start, current, expected))
            current, start, expected = [line[2:].strip()], offset, []
        elif current is not None:
            expected.append(line)
    if current is not None:
        commands.append(_command(block, start, current, expected))
    return commands


def _command(
    block: CodeBlock, offset: int, parts: list[str], expected: list[str]
) -> ConsoleCommand:
    while expected and not expected[-1].strip():
        expected.pop()
    line = block.line + 1 + offset + (len(block.options) + 1 if block.options else 0)
    return ConsoleCommand(block, line, " ".join(p for p in parts if p), tuple(expected))


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

    def norm(line: str) -> str:
        return " ".join(line.split())

    lines = [norm(line) for line in actual.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    position = 0
    anywhere = False
    for want in (norm(line) for line in expected):
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
