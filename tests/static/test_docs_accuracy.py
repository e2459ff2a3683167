"""The documentation cannot drift from the code: every command, option, schedule field, metric,
alert, annotation, exit code and reason the code has is documented, and everything the docs name
(commands and flags in examples, metrics, alerts, annotation keys, environment variables, schedule
snippets, functions in the architecture diagram) exists in the code.

The references themselves are generated at build time by ``docs/_ext/nsshutdown_docs``; these tests
check what the generators see and the narrative pages around them. ``test_docs_build.py`` builds
the site and checks the rendered pages.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

from nsshutdown_docs import (  # noqa: E402 - the docs extension lives under docs/_ext
    alerts_reference,
    cli_reference,
    examples_reference,
    metrics_reference,
    pages,
    schedule_reference,
)

from nsshutdown import constants as c  # noqa: E402
from nsshutdown.errors import ConfigError, ExitCode  # noqa: E402
from nsshutdown.model import Reason, SkipReason  # noqa: E402
from nsshutdown.schedule.config import load_schedule_text  # noqa: E402

#: Environment variables the docs may name that are not CLI options.
OTHER_ENV_VARS = frozenset({"NSSHUTDOWN_CACHE"})


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _narrative_text() -> str:
    return "\n".join(pages.page_text(p) for p in pages.narrative_pages())


def _all_text() -> str:
    """Every page of the site and the README."""
    return "\n".join(pages.page_text(p) for p in pages.sources())


@pytest.fixture(scope="module")
def cli() -> cli_reference.CommandDoc:
    return cli_reference.collect()


def _commands(root: cli_reference.CommandDoc) -> list[cli_reference.CommandDoc]:
    return [cmd for cmd in root.walk() if cmd is not root]


# --- the references are wired in -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "directive"),
    [
        ("reference/cli.md", "nsshutdown-cli-reference"),
        ("reference/schedule.md", "nsshutdown-schedule-reference"),
        ("reference/metrics.md", "nsshutdown-metrics-reference"),
        ("observability.md", "nsshutdown-alerts"),
        ("examples.md", "nsshutdown-examples"),
        ("security.md", "nsshutdown-rbac"),
    ],
)
def test_generated_reference_is_on_its_page(page: str, directive: str) -> None:
    assert f"```{{{directive}}}" in (DOCS / page).read_text(encoding="utf-8")


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_reference_covers_every_command_and_option(cli: cli_reference.CommandDoc) -> None:
    rendered = "\n".join(cli_reference.render(cli))
    assert len(_commands(cli)) >= 2
    for command in cli.walk():
        assert f"{{program}} {command.name}" in rendered, command.name
        for param in command.params:
            for signature in param.signatures:
                assert signature in rendered, f"{command.name} {signature}"
            for envvar in param.envvars:
                assert envvar in rendered, f"{command.name} {envvar}"


def test_every_option_has_help(cli: cli_reference.CommandDoc) -> None:
    missing = [
        f"{command.name} {param.signatures[0]}"
        for command in cli.walk()
        for param in command.params
        if param.kind == "option" and not param.help.strip()
    ]
    assert not missing, f"options without help text (the CLI reference would be empty): {missing}"


def test_every_command_has_help(cli: cli_reference.CommandDoc) -> None:
    assert not [cmd.name for cmd in cli.walk() if not cmd.help.strip()]


def test_every_command_is_named_in_a_narrative_page(cli: cli_reference.CommandDoc) -> None:
    text = _narrative_text()
    missing = [
        cmd.name
        for cmd in _commands(cli)
        if not re.search(r"(?<![\w-])" + r"\s+".join(map(re.escape, cmd.path)) + r"(?![\w-])", text)
    ]
    assert not missing, f"commands no guide, concept or how-to page mentions: {missing}"


def _valid_options(cli: cli_reference.CommandDoc, path: tuple[str, ...]) -> set[str]:
    """Every spelling of every option valid for the command at ``path`` or its parents."""
    chain = [cli]
    for name in path:
        chain.append(next(sub for sub in chain[-1].subcommands if sub.path[-1] == name))
    return {o for node in chain for p in node.params for o in (*p.opts, *p.secondary_opts)}


def _doc_commands() -> Iterator[pages.ConsoleCommand]:
    yield from pages.nsshutdown_commands()


def test_commands_and_flags_shown_in_the_docs_exist(cli: cli_reference.CommandDoc) -> None:
    known = {cmd.path[1:]: cmd for cmd in cli.walk()}
    problems = []
    for shown in _doc_commands():
        argv = shown.argv
        words = [a for a in argv[1:] if not a.startswith("-")]
        path: tuple[str, ...] = ()
        for word in words:
            if (*path, word) in known:
                path = (*path, word)
            else:
                break
        if not path and not any(a in ("--help", "-h", "--version") for a in argv):
            problems.append(f"{shown.where}: unknown command in `{shown.command}`")
            continue
        valid = _valid_options(cli, path)
        for arg in argv[1:]:
            flag = arg.split("=", 1)[0]
            if flag.startswith("-") and flag != "-" and flag not in valid:
                problems.append(f"{shown.where}: `{flag}` is not an option of {' '.join(path)}")
    assert not problems, "\n".join(problems)


def test_environment_variables_named_in_the_docs_exist(cli: cli_reference.CommandDoc) -> None:
    real = {env for cmd in cli.walk() for p in cmd.params for env in p.envvars}
    named = set(re.findall(r"\bNSSHUTDOWN_[A-Z0-9_]*[A-Z0-9]\b", _all_text()))
    assert not sorted(named - real - OTHER_ENV_VARS)


def test_readme_links_into_the_docs_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#\s]+)", readme)
    assert links, "the README should point at the documentation"
    assert not [link for link in links if not (ROOT / link).is_file()]


# --- schedule ------------------------------------------------------------------------------------


def test_every_schedule_field_is_documented() -> None:
    models = schedule_reference.collect()
    keys = schedule_reference.all_keys(models)
    assert {"version", "schedules", "schedules[].windows[].shutdown"} <= set(keys)
    assert not schedule_reference.problems(models)
    rendered = "\n".join(schedule_reference.render(models))
    for model in models:
        for f in model.fields:
            assert f"| `{f.key}` |" in rendered, schedule_reference._join(model.path, f.key)


def test_every_top_level_and_rule_key_appears_in_the_concepts_page() -> None:
    concepts = (DOCS / "concepts.md").read_text(encoding="utf-8")
    models = schedule_reference.collect()
    shallow = [k for k in schedule_reference.all_keys(models) if k.count(".") <= 1]
    missing = [key for key in shallow if key.rsplit(".", 1)[-1] not in concepts]
    assert not missing, f"schedule keys the concepts page never shows: {missing}"


def _schedule_snippets() -> Iterator[tuple[str, str]]:
    for block in pages.all_code_blocks():
        if block.language in ("yaml", "yml") and _looks_like_schedule(block.text):
            yield block.where, block.text


def _looks_like_schedule(text: str) -> bool:
    return bool(
        re.search(r"^version:\s*1\s*$", text, re.M) and re.search(r"^schedules:", text, re.M)
    )


def _schedule_files() -> list[Path]:
    files = [p for p in examples_reference.collect(ROOT) if p.suffix in (".yaml", ".yml")]
    files += sorted((ROOT / "manifests").rglob("schedule.yaml"))
    return [p for p in files if _looks_like_schedule(p.read_text(encoding="utf-8"))]


def test_the_docs_show_schedule_snippets() -> None:
    assert len(list(_schedule_snippets())) >= 2


@pytest.mark.parametrize(("where", "text"), list(_schedule_snippets()))
def test_schedule_snippet_in_the_docs_validates(where: str, text: str) -> None:
    try:
        load_schedule_text(text, source=where)
    except ConfigError as err:
        pytest.fail(f"{where}: schedule snippet does not validate:\n{err}")


def test_there_are_example_schedules() -> None:
    assert len([p for p in _schedule_files() if "examples" in p.parts]) >= 1


@pytest.mark.parametrize("path", _schedule_files(), ids=_rel)
def test_example_schedule_validates(path: Path) -> None:
    try:
        load_schedule_text(path.read_text(encoding="utf-8"), source=_rel(path))
    except ConfigError as err:
        pytest.fail(f"{_rel(path)} does not validate:\n{err}")


def test_every_example_file_is_included() -> None:
    files = examples_reference.collect(ROOT)
    rendered = "\n".join(examples_reference.render(files, root=ROOT))
    for path in files:
        assert f"/../{_rel(path)}" in rendered


# --- metrics -------------------------------------------------------------------------------------


def test_every_metric_is_documented() -> None:
    metrics = metrics_reference.collect()
    assert metrics
    rendered = "\n".join(metrics_reference.render(metrics))
    missing = [m.name for m in metrics if f"## `{m.name}`" not in rendered]
    assert not missing
    assert not [m.name for m in metrics if not m.help.strip()], "metrics without help text"


def test_metrics_named_in_the_docs_exist() -> None:
    real = {m.name for m in metrics_reference.collect()}
    # (a path such as docs/_ext/nsshutdown_docs/ is not a metric)
    named = set(re.findall(r"(?<![/\w])nsshutdown_[a-z0-9_]*[a-z0-9](?![/\w])", _all_text()))
    assert not sorted(named - real)


# --- alerts and runbooks -------------------------------------------------------------------------


def _runbook_docs() -> set[str]:
    runbooks = DOCS / alerts_reference.RUNBOOKS
    return {p.relative_to(DOCS).with_suffix("").as_posix() for p in runbooks.rglob("*.md")}


def test_there_are_alerts() -> None:
    assert alerts_reference.collect(ROOT)


@pytest.mark.parametrize(
    "alert", alerts_reference.collect(ROOT), ids=lambda a: f"{a.name}-{a.severity}"
)
def test_every_alert_has_a_runbook_that_names_it(alert: alerts_reference.AlertDoc) -> None:
    doc = alerts_reference.runbook_doc(alert, _runbook_docs())
    assert doc is not None, alerts_reference.problems([alert], _runbook_docs())
    assert alert.name in (DOCS / f"{doc}.md").read_text(encoding="utf-8")


def test_alerts_named_in_the_docs_exist() -> None:
    real = {a.name for a in alerts_reference.collect(ROOT)}
    named = set(re.findall(r"\bNsShutdown[A-Z][A-Za-z0-9]*\b", _all_text()))
    assert not sorted(named - real)


# --- annotations, exit codes, reasons -------------------------------------------------------------


def _own_annotation_keys() -> set[str]:
    return {
        value
        for name, value in vars(c).items()
        if name.isupper()
        and isinstance(value, str)
        and value.startswith(c.PREFIX)
        and value != c.PREFIX
    }


def test_every_annotation_key_is_documented() -> None:
    concepts = (DOCS / "concepts.md").read_text(encoding="utf-8")
    assert not sorted(k for k in _own_annotation_keys() if k not in concepts)


def test_annotation_keys_named_in_the_docs_exist() -> None:
    named = set(re.findall(r"\bnsshutdown\.io/[a-z0-9-]*[a-z0-9](?![-*\w])", _all_text()))
    assert not sorted(named - _own_annotation_keys())


def test_every_exit_code_is_in_the_troubleshooting_table() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    assert not [code for code in ExitCode if f"| `{int(code)}` |" not in text]


def test_every_namespace_reason_is_explained() -> None:
    concepts = (DOCS / "concepts.md").read_text(encoding="utf-8")
    assert not [r.value for r in Reason if f"`{r.value}`" not in concepts]


def test_every_skip_reason_is_explained() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    assert not [r.value for r in SkipReason if f"`{r.value}`" not in text]


# --- the architecture diagram --------------------------------------------------------------------


def test_functions_in_the_architecture_diagram_exist() -> None:
    svg = (DOCS / "_static" / "architecture.svg").read_text(encoding="utf-8")
    named = re.findall(r">([a-z_.]+)\.([a-z_]+)\(\)<", svg)
    assert len(named) >= 4
    missing = []
    for module, function in named:
        try:
            target = importlib.import_module(f"nsshutdown.{module}")
        except ImportError:
            missing.append(f"nsshutdown.{module}")
            continue
        # a module function (config.load_schedule) or a method of the module's interface
        # (cluster.observe: the Cluster protocol)
        classes = [v for v in vars(target).values() if isinstance(v, type)]
        if not callable(getattr(target, function, None)) and not any(
            callable(getattr(cls, function, None)) for cls in classes
        ):
            missing.append(f"nsshutdown.{module}.{function}")
    assert not missing, f"the diagram names code that does not exist: {missing}"
