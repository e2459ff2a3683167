"""``check``: a read-only preflight of the schedule, cluster access, permissions and Pushgateway.

Exit codes: 0 every check passed (information rows, such as a CRD that is not installed, do not
count); 1 the schedule is invalid; 3 the API server cannot be reached or refuses the credentials;
2 any other check failed (a missing permission, an unreadable ConfigMap, the Pushgateway not
ready). When several apply, the first in that order wins.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from nsshutdown.cli.app import app, handle_errors
from nsshutdown.cli.cluster_options import with_cluster_options
from nsshutdown.cli.common import EventsOption, LogFormatOption, LogLevelOption
from nsshutdown.cli.metrics_options import with_pushgateway_options
from nsshutdown.cli.options import (
    ConfigMapRef,
    Output,
    OutputFormat,
    ScheduleFile,
)
from nsshutdown.errors import ExitCode, UsageError
from nsshutdown.observe import logs
from nsshutdown.observe.logs import LogFormat, LogLevel
from nsshutdown.observe.push_options import MetricsOptions
from nsshutdown.session import session
from nsshutdown.session.check import CheckOptions, exit_code, run_checks
from nsshutdown.session.session import ClusterOptions
from nsshutdown.session.sources import ScheduleSource
from nsshutdown.views.check import check_to_json, render_checks
from nsshutdown.views.tables import text_console

AsServiceAccount = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="NSSHUTDOWN_AS",
        metavar="NAMESPACE/SERVICEACCOUNT",
        help="Check the permissions of this ServiceAccount (the CronJob's: nsshutdown/nsshutdown)"
        " instead of your own, with SubjectAccessReviews: no token of it needed.",
    ),
]


def parse_service_account(text: str) -> tuple[str, str]:
    """``NAMESPACE/NAME`` or ``system:serviceaccount:NAMESPACE:NAME`` -> (namespace, name)."""
    prefix = "system:serviceaccount:"
    namespace, sep, name = (
        text.removeprefix(prefix).partition(":") if text.startswith(prefix) else text.partition("/")
    )
    if not sep or not namespace or not name or "/" in name or ":" in name:
        raise UsageError(f'--as "{text}": expected NAMESPACE/SERVICEACCOUNT')
    return namespace, name


@app.command()
@handle_errors
@with_pushgateway_options
@with_cluster_options
def check(
    *,
    schedule_file: ScheduleFile = None,
    configmap: ConfigMapRef = None,
    events: EventsOption = False,
    output: Output = OutputFormat.TEXT,
    as_: AsServiceAccount = None,
    log_format: LogFormatOption = LogFormat.AUTO,
    log_level: LogLevelOption = LogLevel.WARNING,
    cluster: ClusterOptions,
    metrics: MetricsOptions,
) -> None:
    """Preflight: is the schedule valid, the API reachable, every permission a run needs
    granted (give the run's --events, --configmap, --scope-namespaces), the Pushgateway ready?"""
    logs.configure(fmt=log_format, level=log_level, run_id=logs.new_run_id())
    if schedule_file is not None and configmap is not None:
        raise UsageError("give --schedule or --configmap, not both")
    options = CheckOptions(
        source=ScheduleSource(file=schedule_file, configmap=configmap),
        scope=cluster.scope,
        events=events,
        metrics=metrics,
    )
    subject = parse_service_account(as_) if as_ else None
    results = run_checks(
        options, connect=lambda: session.connect_preflight(cluster, as_service_account=subject)
    )
    code = exit_code(results)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(check_to_json(results, code), indent=2))
    else:
        render_checks(results, code, text_console())
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))
