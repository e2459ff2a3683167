"""Configuration templates: every file in ``examples/``, included verbatim (comments and all)."""

from __future__ import annotations

from pathlib import Path

from nsshutdown_docs import markup

EXAMPLES_DIR = "examples"
_LANGUAGES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".sh": "bash",
    ".toml": "toml",
    ".md": "markdown",
}


def collect(root: Path) -> list[Path]:
    """Every file under ``examples/`` (hidden files aside), in a stable order."""
    base = root / EXAMPLES_DIR
    return sorted(
        p
        for p in base.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(base).parts)
    )


def render(files: list[Path], *, root: Path, level: int = 2) -> list[str]:
    lines: list[str] = []
    for path in files:
        relative = path.relative_to(root).as_posix()
        lines += markup.heading(
            level, markup.code(relative), label=markup.slug("example", relative)
        )
        lines += markup.fence(
            "literalinclude",
            f"/../{relative}",
            language=_LANGUAGES.get(path.suffix, "text"),
            caption=relative,
        )
    return lines
