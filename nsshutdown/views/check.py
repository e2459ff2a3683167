"""``nsshutdown check`` for people (a table, then the failures unwrapped) and scripts (JSON)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nsshutdown.errors import ExitCode
from nsshutdown.session.check import CheckResult, Status

if TYPE_CHECKING:
    from rich.console import Console

_STYLES = {
    Status.PASS: ("ok", "green"),
    Status.FAIL: ("FAIL", "bold red"),
    Status.SKIP: ("skip", "dim"),
    Status.INFO: ("info", "cyan"),
}


def check_to_json(results: list[CheckResult], code: ExitCode) -> dict[str, Any]:
    rows = []
    for result in results:
        row: dict[str, Any] = {
            "check": result.check,
            "subject": result.subject,
            "status": result.status.value,
            "detail": result.detail,
        }
        if result.missing:
            row["missing"] = list(result.missing)
        rows.append(row)
    failed = [_name(r) for r in results if r.status is Status.FAIL]
    return {"checks": rows, "failed": failed, "exit_code": int(code)}


def render_checks(results: list[CheckResult], code: ExitCode, console: Console) -> None:
    from rich import box  # noqa: PLC0415 - rich only when printing (views/tables.py)
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    table = Table(box=box.SIMPLE, show_edge=False)
    for column in ("check", "subject", "result", "detail"):
        table.add_column(column, overflow="fold")
    for result in results:
        word, style = _STYLES[result.status]
        table.add_row(result.check, Text(result.subject), Text(word, style), Text(result.detail))
    console.print(table)
    failed = [r for r in results if r.status is Status.FAIL]
    for result in failed:  # again, unwrapped: the lines to grep for in a Job's log
        console.print(f"FAIL {_name(result)}: {result.detail}", markup=False, soft_wrap=True)
    console.print(f"{len(failed)} failed (exit {int(code)})" if failed else "every check passed")


def _name(result: CheckResult) -> str:
    return f"{result.check} {result.subject}".strip()
