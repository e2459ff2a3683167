"""Small helpers that turn plain text from the code (help strings, descriptions) into MyST markup.

The generators emit MyST markdown rather than docutils nodes so that the references get the same
headings, anchors, cross-reference targets and look as the hand-written pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Characters that mean something to MyST inline markup.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")
# ``double`` (reStructuredText, docstrings) or `single` (markdown) code spans.
_CODE = re.compile(r"``(.+?)``|`([^`]+)`")
_BLOCK_START = re.compile(r"^(\s*)([-+*>]|\d+[.)])(\s)")


def escape(text: str) -> str:
    """Plain text, shown as written."""
    return _SPECIAL.sub(r"\\\1", text)


def code(text: str) -> str:
    """An inline code span that survives backticks in ``text``."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def inline(text: str) -> str:
    """One line of markup from prose: code spans are kept, the rest is escaped, lines are joined."""
    text = " ".join(text.split())
    out: list[str] = []
    pos = 0
    for match in _CODE.finditer(text):
        out.append(escape(text[pos : match.start()]))
        out.append(code(match.group(1) or match.group(2)))
        pos = match.end()
    out.append(escape(text[pos:]))
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}{m[3]}", "".join(out))


def paragraphs(text: str | None) -> list[str]:
    """Prose split on blank lines, each paragraph one line of markup (Click's ``\\b`` dropped)."""
    if not text:
        return []
    blocks = re.split(r"\n\s*\n", text.strip())
    cleaned = ("\n".join(ln for ln in block.splitlines() if ln.strip() != "\b") for block in blocks)
    return [inline(block) for block in cleaned if block.strip()]


def first_sentence(text: str | None) -> str:
    parts = paragraphs(text)
    return parts[0] if parts else ""


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A pipe table of markup cells; a ``|`` inside a code span is escaped for the table."""

    def cell(value: str) -> str:
        return re.sub(r"(?<!\\)\|", r"\\|", value) if value else " "

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def heading(level: int, text: str, *, label: str | None = None) -> list[str]:
    """A heading, with a ``(label)=`` target for ``{ref}`` when given."""
    target = [f"({label})=", ""] if label else []
    return [*target, f"{'#' * level} {text}", ""]


def slug(*parts: str) -> str:
    """A label usable as a MyST target and an HTML id."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def fence(
    directive: str, argument: str = "", body: Iterable[str] = (), **options: str
) -> list[str]:
    """A fenced directive block; the fence is longer than any fence inside ``body``."""
    body = list(body)
    longest = max((len(m) for ln in body for m in re.findall(r"^`{3,}", ln.strip())), default=2)
    ticks = "`" * max(3, longest + 1)
    head = f"{ticks}{{{directive}}} {argument}".rstrip()
    opts = [f":{key.replace('_', '-')}: {value}".rstrip() for key, value in options.items()]
    gap = [""] if opts and body else []
    return [head, *opts, *gap, *body, ticks, ""]
