"""Offline commands import only what they use (docs/performance.md, "Start-up").

Each command line runs in a fresh interpreter, as ``nsshutdown`` would, and the test lists the
modules it left loaded. These are the imports that were cut from start-up; one coming back (a
top-level ``import rich`` in a view, ``prometheus_client`` in an observe module, ``run``'s
command module loaded for ``validate``) fails here, with its name, instead of slowing every CI
pipeline that validates a schedule. Timing is measured by ``python -m bench.startup``, never here.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import zoneinfo

import pytest

from nsshutdown.cli.cluster_options import ClusterArgs
from nsshutdown.kube.limits import Limits
from nsshutdown.schedule import fields

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

#: Never needed without a cluster: the Kubernetes client and its HTTP stack, the metrics client,
#: the session (which connects) and the retry library of its API requests.
CLUSTER_AND_METRICS = (
    "kubernetes",
    "urllib3",
    "prometheus_client",
    "tenacity",
    "nsshutdown.session",
    "nsshutdown.kube",
    "nsshutdown.run",
)
#: Not needed by a command that prints no table: rich, and the other commands' modules.
NOT_FOR_PLAN = (
    *CLUSTER_AND_METRICS,
    "rich",
    "nsshutdown.cli.converge",
    "nsshutdown.cli.preflight",
    "nsshutdown.cli.common",
    "nsshutdown.cli.validate",
    "nsshutdown.observe",
)
#: ``validate FILE`` reads and checks a schedule: nothing of the planner or its data (the schedule
#: needs only ``nsshutdown.targets``), the views, the workload kinds' mechanisms, ``plan``'s
#: module, or the coverage report of ``--cluster``.
NOT_FOR_VALIDATE = (
    *(name for name in NOT_FOR_PLAN if name != "nsshutdown.cli.validate"),
    "nsshutdown.cli.offline",
    "nsshutdown.model",
    "nsshutdown.plan",
    "nsshutdown.views",
    "nsshutdown.kinds",
    "nsshutdown.schedule.coverage",
)
#: ``--version`` needs the app and the package's metadata: no schedule, no model, no view.
NOT_FOR_VERSION = (*NOT_FOR_VALIDATE, "pydantic", "yaml", "croniter", "nsshutdown.schedule")

_SCRIPT = """
import contextlib, io, json, sys
from nsshutdown.cli.main import run_cli
with contextlib.redirect_stdout(io.StringIO()):
    code = run_cli(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _python(script: str, *argv: str, env: dict[str, str] | None = None) -> str:
    """The last line ``script`` prints, run in a fresh interpreter (no NSSHUTDOWN_* variables)."""
    proc = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()[-1]


def _loaded(argv: list[str]) -> list[str]:
    result = json.loads(_python(_SCRIPT, *argv))
    assert result["code"] == 0
    return list(result["modules"])


#: Parts of a forbidden package that import nothing and cost nothing: the ``kube`` package's
#: ``__init__`` (its names load lazily) and the request limits, whose defaults the cluster
#: options show.
FREE = frozenset({"nsshutdown.kube", "nsshutdown.kube.limits"})


def _offending(modules: list[str], forbidden: tuple[str, ...]) -> list[str]:
    return [
        m
        for m in modules
        if m not in FREE and any(m == f or m.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.parametrize("output", ["text", "json"])
def test_validate_loads_no_cluster_metrics_or_table_code(
    example: pathlib.Path, output: str
) -> None:
    loaded = _loaded(["validate", "--schedule", str(example), "--output", output])
    assert _offending(loaded, NOT_FOR_VALIDATE) == []


def test_plan_offline_as_json_loads_no_cluster_metrics_or_table_code() -> None:
    argv = ["plan", "--schedule", str(ROOT / "examples" / "nights-and-weekends.yaml")]
    argv += ["--namespace", "dev-a=env=dev", "--at", "2026-11-26T21:00:00+01:00", "-o", "json"]
    assert _offending(_loaded(argv), NOT_FOR_PLAN) == []


def test_plan_offline_as_text_loads_no_cluster_or_metrics_code() -> None:
    argv = ["plan", "--schedule", str(ROOT / "examples" / "nights-and-weekends.yaml")]
    argv += ["--namespace", "dev-a=env=dev", "--at", "2026-11-26T21:00:00+01:00"]
    loaded = _loaded(argv)
    assert _offending(loaded, CLUSTER_AND_METRICS) == []
    assert "rich.console" in loaded  # the table is printed with rich: the check above is real


def test_help_loads_no_cluster_or_metrics_client() -> None:
    # the help lists every command, so every command module loads; their clients do not
    loaded = _loaded(["--help"])
    assert _offending(loaded, ("kubernetes", "urllib3", "prometheus_client")) == []
    assert "nsshutdown.cli.converge" in loaded


@pytest.mark.parametrize("command", ["run", "status", "check"])
def test_the_cluster_commands_load_rich_only_to_print_for_people(command: str) -> None:
    """A CronJob's run prints JSON and logs JSON: loading its command module loads no rich."""
    assert _offending(json.loads(_python(_COMMAND_MODULE, command)), ("rich",)) == []


_COMMAND_MODULE = """
import json, sys
from nsshutdown.cli.main import load_commands
load_commands(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
"""


def test_version_loads_no_command_at_all() -> None:
    assert _offending(_loaded(["--version"]), NOT_FOR_VERSION) == []


#: The command line with every process it starts recorded (``subprocess`` is how Python starts one).
_PROCESSES = """
import contextlib, io, json, subprocess, sys
started = []
class Recorded(subprocess.Popen):
    def __init__(self, args, *more, **options):
        started.append(args)
        super().__init__(args, *more, **options)
subprocess.Popen = Recorded
from nsshutdown.cli.main import run_cli
with contextlib.redirect_stdout(io.StringIO()):
    run_cli(sys.argv[1:])
print(json.dumps(started))
"""


def test_validate_starts_no_process() -> None:
    # croniter asks platform.architecture() at import, which runs `file` on the interpreter
    argv = ["validate", "--schedule", str(EXAMPLES[0])]
    assert json.loads(_python(_PROCESSES, *argv)) == []


def test_cluster_option_defaults_are_the_request_limits_defaults() -> None:
    options, limits = ClusterArgs().options(), Limits()
    assert options.limits == limits
    assert options == type(options)()  # the session's own defaults


#: ``main`` as the console script runs it, with ``importlib.metadata.entry_points`` counting the
#: look-ups of pydantic's plugins (pydantic reads its entry point group, "pydantic").
_MAIN = """
import contextlib, io, json, os, sys
import importlib.metadata as metadata
looked_up = []
real = metadata.entry_points
def entry_points(**params):
    looked_up.append(params.get("group"))
    return real(**params)
metadata.entry_points = entry_points
from nsshutdown.cli.main import main
sys.argv = ["nsshutdown", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main()
print(json.dumps({"looked_up": looked_up, "env": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}))
"""


@pytest.mark.parametrize(("given", "looks_up"), [(None, False), ("some-plugin", True)])
def test_pydantic_plugins_are_not_looked_up_unless_the_user_set_the_variable(
    given: str | None, looks_up: bool
) -> None:
    # theirs: left as it is, so pydantic looks
    env = {} if given is None else {"PYDANTIC_DISABLE_PLUGINS": given}
    argv = ["validate", "--schedule", str(EXAMPLES[0])]
    result = json.loads(_python(_MAIN, *argv, env=env))
    assert ("pydantic" in result["looked_up"]) is looks_up
    assert result["env"] == given  # ours is not left behind for the processes started later


def test_a_time_zone_of_tzdata_is_checked_without_reading_every_zone_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # available_timezones() opens every file under the system's zone directories (tens of ms)
    def walk() -> set[str]:
        raise AssertionError("the zone directories were read")

    fields._packaged_zone_names.cache_clear()
    fields._zone_names.cache_clear()
    monkeypatch.setattr(zoneinfo, "available_timezones", walk)
    assert fields.check_zone("Europe/Madrid") == "Europe/Madrid"
    with pytest.raises(AssertionError, match="zone directories"):  # anything else: the full list
        fields.check_zone("Europe/Madird")
