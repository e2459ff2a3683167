"""Logs: JSON lines carrying run_id, rich text on a terminal, and no secret ever written."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsshutdown.observe import logs
from nsshutdown.observe.logs import LogFormat, LogLevel
from nsshutdown.run.report import Outcome
from tests.reports import dev_a, down, result, scenario, skip, workload

RUN_ID = "feedc0ffee12"
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlX3BhcnQ"
PASSWORD = "hunter2-Very-Secret"
OPAQUE = "sha256~AbCdEf0123456789"
SECRETS = (TOKEN, PASSWORD, OPAQUE, "hunter2")


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True

    def plain(self) -> str:
        """What a person reads: colours removed (they could hide a secret split in two)."""
        return re.sub(r"\x1b\[[0-9;]*m", "", self.getvalue())


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    ours = logging.getLogger("nsshutdown")
    our_level = ours.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    ours.setLevel(our_level)
    logging.captureWarnings(False)


def configure_json(level: LogLevel = LogLevel.INFO) -> io.StringIO:
    stream = io.StringIO()
    logs.configure(fmt=LogFormat.JSON, level=level, run_id=RUN_ID, stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_new_run_id_is_short_and_unique() -> None:
    ids = {logs.new_run_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)


def test_every_line_is_one_json_object_with_run_id() -> None:
    stream = configure_json()
    log = logging.getLogger("nsshutdown.run.executor")
    log.info("scaled %s", "dev-a/api", extra={"namespace": "dev-a"})
    log.warning("multi\nline message")
    logging.getLogger("urllib3.connectionpool").warning("Retrying after connection reset")
    docs = lines(stream)
    assert len(docs) == 3
    for doc in docs:
        assert doc["run_id"] == RUN_ID
        assert list(doc)[:5] == ["time", "level", "logger", "message", "run_id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["time"])
        assert datetime.fromisoformat(doc["time"]).utcoffset() is not None
    assert docs[0] | {"time": "-"} == {
        "time": "-", "level": "info", "logger": "nsshutdown.run.executor",
        "message": "scaled dev-a/api", "run_id": RUN_ID, "namespace": "dev-a",
    }  # fmt: skip
    assert docs[1]["message"] == "multi\nline message"
    assert docs[2]["logger"] == "urllib3.connectionpool"


def test_levels_ours_at_the_chosen_level_others_from_warning() -> None:
    stream = configure_json(LogLevel.DEBUG)
    logging.getLogger("nsshutdown.kube").debug("listing")
    logging.getLogger("kubernetes.client.rest").debug("response body: {...}")
    logging.getLogger("kubernetes.client.rest").info("noise")
    assert [d["message"] for d in lines(stream)] == ["listing"]
    stream = configure_json(LogLevel.WARNING)
    logging.getLogger("nsshutdown.kube").info("hidden")
    assert stream.getvalue() == ""


def test_configure_is_idempotent() -> None:
    for _ in range(3):
        stream = configure_json()
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_nsshutdown_handler", False)]
    assert len(ours) == 1
    logging.getLogger("nsshutdown").info("once")
    assert len(lines(stream)) == 1


def test_auto_is_json_in_a_pod_and_text_on_a_terminal() -> None:
    piped = io.StringIO()
    logs.configure(fmt=LogFormat.AUTO, level=LogLevel.INFO, run_id=RUN_ID, stream=piped)
    logging.getLogger("nsshutdown").info("hello")
    assert json.loads(piped.getvalue())["message"] == "hello"
    tty = FakeTty()
    logs.configure(fmt=LogFormat.AUTO, level=LogLevel.INFO, run_id=RUN_ID, stream=tty)
    logging.getLogger("nsshutdown").info("hello", extra={"namespace": "dev-a", "retries": 2})
    text = tty.plain()
    assert "hello" in text
    assert "retries=2" in text
    assert not text.lstrip().startswith("{")


def test_fields_carry_keys_the_standard_library_reserves() -> None:
    stream = configure_json()
    extra = logs.fields({"name": "api", "from": 3, "to": 0}, kind="Deployment")
    logging.getLogger("nsshutdown").info("scaled", extra=extra)
    (doc,) = lines(stream)
    assert (doc["name"], doc["from"], doc["to"], doc["kind"]) == ("api", 3, 0, "Deployment")
    assert "nsshutdown_fields" not in doc


def test_exceptions_are_one_line_of_json() -> None:
    stream = configure_json()
    try:
        raise RuntimeError(f"connect failed: Authorization: Bearer {TOKEN}")
    except RuntimeError:
        logging.getLogger("nsshutdown").exception("boom")
    (doc,) = lines(stream)
    assert "RuntimeError" in doc["exception"]
    assert TOKEN not in stream.getvalue()


def test_python_warnings_become_log_lines() -> None:
    stream = configure_json()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("Unverified HTTPS request", UserWarning, stacklevel=1)
    (doc,) = lines(stream)
    assert doc["logger"] == "py.warnings"
    assert doc["run_id"] == RUN_ID


def _log_every_secret() -> None:
    log = logging.getLogger("nsshutdown.kube")
    log.info(f"request headers: {{'authorization': 'Bearer {TOKEN}'}}")
    log.info("Authorization: Bearer %s", OPAQUE)
    log.info("login with password=%s&user=bob", PASSWORD)
    log.info('config {"password": "%s", "token": "%s"}', PASSWORD, TOKEN)
    log.info("pushing to https://bob:%s@pushgateway:9091/metrics", PASSWORD)
    log.info("bare token %s", TOKEN)
    log.info("Authorization: Basic aHVudGVyMjpodW50ZXIy")
    log.info(
        "extras",
        extra={
            "token": OPAQUE,
            "password": PASSWORD,
            "headers": {"Authorization": f"Bearer {TOKEN}"},
        },
    )
    log.info("more", extra=logs.fields(api_key=OPAQUE, args=[f"--token={OPAQUE}"], bearer=TOKEN))
    logging.getLogger("kubernetes.client.rest").warning("401 for token=%s", OPAQUE)
    try:
        raise PermissionError(f"password={PASSWORD}")
    except PermissionError:
        log.exception("failed")


def test_no_secret_ever_appears_in_json() -> None:
    stream = configure_json()
    _log_every_secret()
    text = stream.getvalue()
    for secret in (*SECRETS, "aHVudGVyMjpodW50ZXIy"):
        assert secret not in text
    docs = lines(stream)
    assert len(docs) == 11
    assert all(doc["run_id"] == RUN_ID for doc in docs)
    assert docs[7]["token"] == docs[7]["password"] == logs.MASK
    assert docs[7]["headers"] == {"Authorization": logs.MASK}
    assert "bob:***@pushgateway" in docs[4]["message"]


def test_no_secret_ever_appears_in_text() -> None:
    tty = FakeTty()
    logs.configure(fmt=LogFormat.TEXT, level=LogLevel.INFO, run_id=RUN_ID, stream=tty)
    _log_every_secret()
    text = tty.plain()
    assert "login with password=***" in text
    for secret in (*SECRETS, "aHVudGVyMjpodW50ZXIy"):
        assert secret not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bearer tokens are masked", "bearer tokens are masked"),
        ("basic auth is configured", "basic auth is configured"),
        ("the token is invalid", "the token is invalid"),
        ("3 replicas -> 0", "3 replicas -> 0"),
        ("Bearer abc123def", "Bearer ***"),
        ("X-Api-Key: abc", "X-Api-Key: ***"),
        ("secret=***", "secret=***"),
        ("client_secret=xyz other=1", "client_secret=*** other=1"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert logs.redact(text) == expected


# --- scaling and summary lines ------------------------------------------------------------------


def test_log_action_writes_the_scaling_fields() -> None:
    stream = configure_json()
    log = logging.getLogger("nsshutdown.run.executor")
    ns = dev_a()
    for res in ns.results:
        logs.log_action(log, res)
    failed = result(down(workload("db", replicas=2)), Outcome.FAILED, f"403 token={OPAQUE}")
    logs.log_action(log, failed)
    api, cron, legacy, db = lines(stream)
    assert api["message"] == "dev-a: shut down Deployment api: replicas 3 → 0"
    assert {k: api[k] for k in logs.SCALING_KEYS} == {
        "namespace": "dev-a", "kind": "Deployment", "name": "api", "action": "shutdown",
        "from": 3, "to": 0, "outcome": "applied",
    }  # fmt: skip
    assert api["level"] == "info"
    assert (cron["from"], cron["to"], cron["message"]) == (
        False, True, "dev-a: shut down CronJob nightly: suspended",
    )  # fmt: skip
    assert legacy["action"] == "skip"
    assert legacy["reason"] == "excluded"
    assert db["level"] == "warning"
    assert db["outcome"] == "failed"
    assert OPAQUE not in stream.getvalue()


def test_log_action_of_a_skip_names_its_reason() -> None:
    from nsshutdown.model import SkipReason

    stream = configure_json()
    young = skip(workload("young", replicas=1), SkipReason.GRACE_PERIOD)
    logs.log_action(logging.getLogger("nsshutdown"), result(young))
    (doc,) = lines(stream)
    assert doc["message"] == "skip Deployment dev-a/young: grace-period"
    assert (doc["from"], doc["to"]) == (None, None)


def test_log_summary_of_a_good_run() -> None:
    stream = configure_json()
    logs.log_summary(logging.getLogger("nsshutdown"), scenario())
    (doc,) = lines(stream)
    assert doc["message"] == "run finished: 1 restore, 3 shutdown; 0 errors; 2.5 s; exit 0"
    assert doc["actions"] == {"restore": 1, "shutdown": 3}
    assert (doc["errors"], doc["exit_code"], doc["duration_seconds"]) == (0, 0, 2.5)
    assert (doc["level"], doc["run_id"], doc["dry_run"]) == ("info", RUN_ID, False)
    assert doc["failed_namespaces"] == []


def test_log_summary_of_a_failed_run() -> None:
    stream = configure_json()
    logs.log_summary(logging.getLogger("nsshutdown"), scenario(failed=True))
    (doc,) = lines(stream)
    assert doc["level"] == "warning"
    assert doc["exit_code"] == 2
    assert doc["failed_namespaces"] == ["dev-c"]
    assert "failed: dev-c" in doc["message"]


def _redact_slowly(text: str) -> str:
    """What :func:`logs.redact` does without its shortcut: every pattern, always."""
    for pattern, replacement in logs._PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_SECRETISH = st.sampled_from(
    ["password=", "Passwd: ", "api-key=", "Bearer ", "basic ", "token:", "https://u:p@", "eyJ",
     "AUTHORIZATION=", "credentials ", "pa\u017fsword=", "to\u212aen=", "authori\u0131ation="]
)  # fmt: skip


@given(st.lists(st.one_of(st.text(max_size=12), _SECRETISH), max_size=6).map("".join))
def test_the_redaction_shortcut_never_changes_a_result(text: str) -> None:
    assert logs.redact(text) == _redact_slowly(text)


def test_every_letter_a_pattern_matches_survives_folding() -> None:
    """The shortcut compares folded text: whatever the patterns' case-insensitive matching takes
    for a letter of a suspect word must fold to that letter (only cased characters can)."""
    letters = set("".join(logs._SUSPECT)) - set(":/")
    cased = (chr(cp) for cp in range(0x110000) if chr(cp).lower() != chr(cp).upper())
    for char in cased:
        for letter in letters:
            if re.fullmatch(f"(?i){letter}", char):
                assert letter in logs._folded(char), (letter, hex(ord(char)))
