"""The docs generators on small, made-up inputs: what they find, and how they render it.

These prove the machinery itself (a new option, field or rule shows up; an undocumented one is
reported), independently of the real CLI, schedule models and manifests.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import pytest
import typer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import nsshutdown_docs  # noqa: E402 - the docs extension lives under docs/_ext
from nsshutdown_docs import (  # noqa: E402
    alerts_reference,
    cli_reference,
    examples_reference,
    markup,
    pages,
    rbac_reference,
    schedule_reference,
)

# --- CLI -----------------------------------------------------------------------------------------


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


def _app() -> typer.Typer:
    app = typer.Typer(name="tool", help="A tool.", context_settings={"auto_envvar_prefix": "TOOL"})

    @app.command()
    def paint(
        walls: Annotated[list[str], typer.Argument(metavar="WALL...", help="Walls.")],
        colour: Annotated[
            Colour, typer.Option("--colour", "-c", help="Which colour.")
        ] = Colour.RED,
        coats: Annotated[int, typer.Option(help="How many.", envvar="PAINT_COATS")] = 2,
        dry: Annotated[bool, typer.Option("--dry/--wet", help="Pretend.")] = False,
        secret: Annotated[str, typer.Option(hidden=True, help="Hidden.")] = "",
    ) -> None:
        """Paint walls.

        Second paragraph.
        """

    @app.command(hidden=True)
    def internal() -> None:
        """Not for users."""

    return app


@pytest.fixture(scope="module")
def tool() -> cli_reference.CommandDoc:
    return cli_reference.collect(typer.main.get_command(_app()), program="tool")


def _param(tool: cli_reference.CommandDoc, name: str) -> cli_reference.ParamDoc:
    paint = next(c for c in tool.walk() if c.name == "tool paint")
    return next(p for p in paint.params if p.name == name)


def test_cli_collect_finds_visible_commands_only(tool: cli_reference.CommandDoc) -> None:
    assert [c.name for c in tool.walk()] == ["tool", "tool paint"]


def test_cli_collect_skips_hidden_options(tool: cli_reference.CommandDoc) -> None:
    paint = next(c for c in tool.walk() if c.name == "tool paint")
    assert "secret" not in {p.name for p in paint.params}


def test_cli_option_details(tool: cli_reference.CommandDoc) -> None:
    colour = _param(tool, "colour")
    assert colour.choices == ("red", "blue")
    assert colour.default == "red"
    assert colour.envvars == ("TOOL_PAINT_COLOUR",)  # Click's automatic name
    assert colour.signatures == ("--colour [red|blue]", "-c [red|blue]")
    coats = _param(tool, "coats")
    assert (coats.envvars, coats.default, coats.metavar) == (("PAINT_COATS",), "2", "INTEGER")
    dry = _param(tool, "dry")
    assert dry.signatures == ("--dry", "--wet")
    assert dry.default == "--wet"


def test_cli_argument(tool: cli_reference.CommandDoc) -> None:
    walls = _param(tool, "walls")
    assert (walls.kind, walls.required, walls.signatures) == ("argument", True, ("WALL...",))


def test_cli_render(tool: cli_reference.CommandDoc) -> None:
    text = "\n".join(cli_reference.render(tool))
    assert "(cli-tool-paint)=" in text
    assert "```{program} tool paint" in text
    assert "```{option} --colour [red|blue], -c [red|blue]" in text
    assert "Second paragraph." in text
    assert "Environment `TOOL_PAINT_COLOUR`" in text or "environment `TOOL_PAINT_COLOUR`" in text


# --- schedule models -----------------------------------------------------------------------------


Name = Annotated[str, AfterValidator(str.strip)]


class Inner(BaseModel):
    """An inner object."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel)
    wait_time: timedelta = Field(default=timedelta(minutes=90), description="How long.")
    label: Name = "x"


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel)
    version: int = Field(description="Format version.")
    items: tuple[Inner, ...] = ()


def test_schedule_collect_walks_nested_models() -> None:
    models = schedule_reference.collect(Outer, descriptions={"items[].label": "A label."})
    assert [m.path for m in models] == ["", "items[]"]
    assert schedule_reference.all_keys(models) == [
        "version",
        "items",
        "items[].waitTime",
        "items[].label",
    ]
    inner = models[1]
    assert inner.description == "An inner object."
    assert inner.forbids_extra
    wait = inner.fields[0]
    assert (wait.key, wait.default, wait.description) == ("waitTime", "1h30m", "How long.")
    assert inner.fields[1].description == "A label."


def test_schedule_problems_report_missing_and_stale_descriptions() -> None:
    models = schedule_reference.collect(Outer, descriptions={"gone": "Old."})
    problems = "\n".join(schedule_reference.problems(models, {"gone": "Old."}))
    assert "'items'" in problems  # no description anywhere
    assert "'items[].label'" in problems
    assert "'gone'" in problems  # describes a field that no longer exists
    assert "'version'" not in problems


def test_schedule_render_links_nested_objects() -> None:
    models = schedule_reference.collect(Outer, descriptions={})
    text = "\n".join(schedule_reference.render(models))
    assert "{ref}`items[] <schedule-items>`" in text
    assert "| `version` | integer | **required** | Format version. |" in text


# --- markup --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("use ``--for`` or `--until`", "use `--for` or `--until`"),
        ("a *star* and a [link]", r"a \*star\* and a \[link\]"),
        ("- not a list", r"\- not a list"),
        ("two\nlines", "two lines"),
    ],
)
def test_inline_markup(text: str, expected: str) -> None:
    assert markup.inline(text) == expected


def test_table_escapes_pipes_in_cells() -> None:
    lines = markup.table(["a"], [["`x|y`"]])
    assert lines[2] == r"| `x\|y` |"


def test_fence_is_longer_than_any_fence_inside() -> None:
    lines = markup.fence("note", body=["```text", "x", "```"])
    assert lines[0].startswith("````{note}")


# --- RBAC ----------------------------------------------------------------------------------------


ROLE = """\
# Header line.
#
# Absent:
# - one thing,
#   continued.
# - another.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: demo
rules:
  # Why namespaces.
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["list"]
  - apiGroups: ["apps"]
    resources: ["deployments"]
    verbs: ["patch"]
"""


def test_rbac_rules_carry_their_comments(tmp_path: Path) -> None:
    (tmp_path / "role.yaml").write_text(ROLE, encoding="utf-8")
    [role] = rbac_reference.collect(tmp_path, ["role.yaml"])
    assert (role.kind, role.name) == ("ClusterRole", "demo")
    assert [r.why for r in role.rules] == ["Why namespaces.", "As above."]
    assert rbac_reference.comment_markup(role.comment) == [
        "Header line.",
        "",
        "Absent:",
        "",
        "- one thing, continued.",
        "- another.",
        "",
    ]


# --- alerts and examples -------------------------------------------------------------------------


def test_runbook_candidates() -> None:
    alert = alerts_reference.AlertDoc(
        name="NsShutdownJobFailing",
        severity="warning",
        summary="",
        description="",
        runbook_url="https://example.com/docs/runbooks/job-failing.html",
        expr="",
        for_="",
        source=Path("x.yaml"),
    )
    candidates = alerts_reference.candidates(alert)
    assert candidates[0] == "runbooks/job-failing"
    assert "runbooks/nsshutdown-job-failing" in candidates
    assert alerts_reference.runbook_doc(alert, {"runbooks/nsshutdown-job-failing"}) is not None
    assert alerts_reference.problems([alert], set())


def test_examples_skip_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "examples" / ".hidden").mkdir(parents=True)
    (tmp_path / "examples" / ".hidden" / "x.yaml").write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "examples" / "b.yaml").write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "examples" / "a.json").write_text("{}\n", encoding="utf-8")
    files = examples_reference.collect(tmp_path)
    assert [p.name for p in files] == ["a.json", "b.yaml"]
    text = "\n".join(examples_reference.render(files, root=tmp_path))
    assert ":language: json" in text
    assert "/../examples/b.yaml" in text


# --- reading pages -------------------------------------------------------------------------------


def test_code_blocks_and_runnable_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "ROOT", tmp_path)
    page = tmp_path / "page.md"
    page.write_text(
        "# T\n\n<!-- runnable -->\n```console\n$ nsshutdown plan \\\n  --at now\nout\n\n"
        "$ nsshutdown --help\n```\n\n```{code-block} console\n:class: runnable\n\n$ ls\n```\n\n"
        "```yaml\nversion: 1\n```\n",
        encoding="utf-8",
    )
    blocks = pages.code_blocks(page)
    assert [(b.language, b.runnable) for b in blocks] == [
        ("console", True),
        ("console", True),
        ("yaml", False),
    ]
    commands = pages.console_commands(blocks[0])
    assert [c.command for c in commands] == ["nsshutdown plan --at now", "nsshutdown --help"]
    assert commands[0].expected == ("out",)
    assert commands[0].argv == ["nsshutdown", "plan", "--at", "now"]


# --- a missing source fails the build ------------------------------------------------------------


def test_a_missing_source_module_stops_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_reference, "CLI_MODULE", "nsshutdown.no_such_module")
    env = SimpleNamespace(note_dependency=lambda _path: None)
    directive = object.__new__(nsshutdown_docs.CliReference)
    directive.options = {}
    directive.state = SimpleNamespace(document=SimpleNamespace(settings=SimpleNamespace(env=env)))
    with pytest.raises(ExtensionError, match="cannot generate the CLI reference"):
        directive.run()


def test_script_blocks_yield_their_nsshutdown_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "ROOT", tmp_path)
    page = tmp_path / "page.md"
    page.write_text(
        "# T\n\n```sh\n# a comment\nkubectl get ns\nnsshutdown plan \\\n  -s x.yaml  # why\n```\n",
        encoding="utf-8",
    )
    [block] = pages.code_blocks(page)
    commands = pages.script_commands(block)
    assert [c.command for c in commands] == ["kubectl get ns", "nsshutdown plan -s x.yaml  # why"]
    assert commands[1].argv == ["nsshutdown", "plan", "-s", "x.yaml"]
    assert commands[1].line == 6


def test_the_kinds_table_has_one_row_per_registry_entry() -> None:
    from nsshutdown_docs import kinds_reference

    from nsshutdown.kinds.registry import MECHANISMS

    lines = kinds_reference.render(kinds_reference.collect())
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| kind ")]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == [str(k) for k in MECHANISMS]
    assert any("`jobs.batch`" in row and "`original-suspend`" in row for row in rows)
