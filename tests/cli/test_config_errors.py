"""Malformed schedules, each through ``nsshutdown validate``: exit 1, and a message naming the
file, the line and the field path a person has to fix. Never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nsshutdown.cli.main import app

HEAD = "version: 1\n"
RULE = """\
version: 1
schedules:
  - name: dev
    namespaces:
      names: ["dev-*"]
{extra}"""
WINDOW = '    windows:\n      - shutdown: "0 20 * * *"\n        startup: "0 8 * * *"\n'


def rule_with(extra: str) -> str:
    return RULE.format(extra=extra)


# id: (file content, line, field path, message fragment)
CASES: dict[str, tuple[str, int, str, str]] = {
    # --- YAML itself
    "yaml-unclosed-flow-list": (HEAD + "excludeNamespaces: [kube-system\n", 3, "", "invalid YAML"),
    "yaml-tab-indentation": (HEAD + "schedules:\n\t- name: x\n", 3, "", "invalid YAML"),
    "yaml-two-documents": (HEAD + "---\nversion: 1\n", 2, "", "invalid YAML"),
    "yaml-duplicate-key": (HEAD + "version: 1\n", 2, "version", 'duplicate key "version"'),
    "empty-file": ("", 1, "(document)", "empty"),
    "top-level-list": ("- version: 1\n", 1, "(document)", "YAML mapping"),
    # --- top level
    "missing-version": ("schedules: []\n", 1, "version", "missing required key"),
    "wrong-version": ("version: 2\n", 1, "version", "input should be 1"),
    "version-as-string": ('version: "1"\n', 1, "version", "input should be 1"),
    "unknown-top-level-key": (HEAD + "schedule: []\n", 2, "schedule", 'unknown key "schedule"'),
    "exclude-not-a-list": (HEAD + "excludeNamespaces: kube-system\n", 2, "excludeNamespaces",
                           "expected a list"),
    "bad-exclude-glob": (HEAD + "excludeNamespaces: [Kube_System]\n", 2, "excludeNamespaces[0]",
                         "invalid glob"),
    # --- defaults
    "unknown-zone": (HEAD + "defaults:\n  timezone: Europe/Madird\n", 3, "defaults.timezone",
                     'did you mean "Europe/Madrid"'),
    "zone-not-a-string": (HEAD + "defaults:\n  timezone: 1\n", 3, "defaults.timezone",
                          "expected a string"),
    "snake-case-key": (HEAD + "defaults:\n  grace_period: 1h\n", 3, "defaults.grace_period",
                       'unknown key "grace_period" (did you mean "gracePeriod"?)'),
    "bad-duration": (HEAD + "defaults:\n  gracePeriod: 15 minutes\n", 3, "defaults.gracePeriod",
                     "invalid duration"),
    "duration-as-number": (HEAD + "defaults:\n  gracePeriod: 15\n", 3, "defaults.gracePeriod",
                           "expected a duration"),
    "unknown-kind": (HEAD + "defaults:\n  kinds: [Deployment, Pod]\n", 3, "defaults.kinds[1]",
                     'unknown kind "Pod". Built in: Deployment'),
    "misspelt-kind": (HEAD + "defaults:\n  kinds: [Deploymnet]\n", 3, "defaults.kinds[0]",
                      'did you mean "Deployment"?'),
    "kind-not-camelcase": (HEAD + "defaults:\n  kinds: [deployment]\n", 3, "defaults.kinds[0]",
                           "is not a kind name"),
    # --- customKinds
    "custom-kind-is-builtin": (
        HEAD + "customKinds:\n  - {kind: Deployment, group: apps.example.com, version: v1,"
        " resource: deployments}\n", 3, "customKinds[0].kind", "is a built-in kind"),
    "custom-kind-twice": (
        HEAD + "customKinds:\n"
        "  - {kind: CloneSet, group: apps.kruise.io, version: v1alpha1, resource: clonesets}\n"
        "  - {kind: CloneSet, group: apps.kruise.io, version: v1beta1, resource: clonesets}\n",
        4, "customKinds[1].kind", "declared twice (also customKinds[0])"),
    "custom-kind-bad-group": (
        HEAD + "customKinds:\n  - {kind: CloneSet, group: Kruise, version: v1alpha1,"
        " resource: clonesets}\n", 3, "customKinds[0].group", "is not an API group"),
    "custom-kind-bad-version": (
        HEAD + "customKinds:\n  - {kind: CloneSet, group: apps.kruise.io, version: 1,"
        " resource: clonesets}\n", 3, "customKinds[0].version", ""),
    "custom-kind-bad-resource": (
        HEAD + "customKinds:\n  - {kind: CloneSet, group: apps.kruise.io, version: v1alpha1,"
        " resource: CloneSets}\n", 3, "customKinds[0].resource", "is not a resource name"),
    "custom-kind-missing-field": (
        HEAD + "customKinds:\n  - {kind: CloneSet, group: apps.kruise.io, version: v1}\n",
        3, "customKinds[0].resource", "required"),
    "no-kinds": (HEAD + "defaults:\n  kinds: []\n", 3, "defaults.kinds", "at least one kind"),
    # --- schedules
    "schedule-not-a-mapping": (HEAD + "schedules:\n  - dev\n", 3, "schedules[0]",
                               "expected a mapping"),
    "missing-name": (HEAD + "schedules:\n  - namespaces: {names: [a]}\n    holidays: [2026-12-25]"
                     "\n", 3, "schedules[0].name", "missing required key"),
    "name-with-spaces": (rule_with(WINDOW).replace("name: dev", "name: dev team"), 3,
                         "schedules[0].name", "invalid name"),
    "reserved-name": (rule_with(WINDOW).replace("name: dev", "name: manual"), 3,
                      "schedules[0].name", "reserved"),
    "duplicate-names": (rule_with(WINDOW) + '  - name: dev\n    namespaces: {names: [qa]}\n'
                        + WINDOW, 9, "schedules[1].name", 'duplicate schedule name "dev"'),
    "no-names-no-selector": (HEAD + "schedules:\n  - name: dev\n    namespaces: {exclude: [a]}\n"
                             + WINDOW, 4, "schedules[0].namespaces", '"names", "selector"'),
    "bad-name-glob": (rule_with(WINDOW).replace('"dev-*"', '"dev-[a"'), 5,
                      "schedules[0].namespaces.names[0]", "unclosed"),
    "bad-selector-syntax": (rule_with('      selector: "env in (dev,qa"\n' + WINDOW), 6,
                            "schedules[0].namespaces.selector", "invalid label selector"),
    "bad-selector-key": (rule_with('      selector: "-env=dev"\n' + WINDOW), 6,
                         "schedules[0].namespaces.selector", "invalid label key"),
    "selector-as-mapping": (rule_with("      selector: {env: dev}\n" + WINDOW), 6,
                            "schedules[0].namespaces.selector", "label selector string"),
    "unknown-namespaces-key": (rule_with("      labels: {env: dev}\n" + WINDOW), 6,
                               "schedules[0].namespaces.labels", "expected one of: exclude"),
    "no-windows-no-holidays": (rule_with(""), 3, "schedules[0].windows", "never shut down"),
    "empty-windows": (rule_with("    windows: []\n"), 6, "schedules[0].windows",
                      "never shut down"),
    "windows-as-mapping": (rule_with('    windows: {shutdown: "0 20 * * *"}\n'), 6,
                           "schedules[0].windows", "expected a list"),
    "window-missing-startup": (rule_with('    windows:\n      - shutdown: "0 20 * * *"\n'), 7,
                               "schedules[0].windows[0].startup", "missing required key"),
    "window-misspelt-key": (rule_with(WINDOW.replace("startup", "start")), 8,
                            "schedules[0].windows[0].start", 'unknown key "start"'),
    "cron-hour-out-of-range": (rule_with(WINDOW.replace("0 8 * * *", "0 25 * * *")), 8,
                               "schedules[0].windows[0].startup",
                               'invalid cron expression "0 25 * * *"'),
    "cron-six-fields": (rule_with(WINDOW.replace("0 20 * * *", "0 0 20 * * *")), 7,
                        "schedules[0].windows[0].shutdown", "use 5 fields"),
    "cron-garbage": (rule_with(WINDOW.replace("0 20 * * *", "at eight")), 7,
                     "schedules[0].windows[0].shutdown", "invalid cron expression"),
    "cron-never-fires": (rule_with(WINDOW.replace("0 20 * * *", "0 0 30 2 *")), 7,
                         "schedules[0].windows[0].shutdown", "never fires"),
    "cron-not-a-string": (rule_with(WINDOW.replace('"0 20 * * *"', "2000")), 7,
                          "schedules[0].windows[0].shutdown", "expected a string"),
    "same-shutdown-and-startup": (rule_with(WINDOW.replace("0 8 * * *", "0 20 * * *")), 7,
                                  "schedules[0].windows[0]", "never opens"),
    "bad-holiday-date": (rule_with('    holidays: ["2026-13-01"]\n'), 6,
                         "schedules[0].holidays[0]", "month"),
    "holiday-with-time": (rule_with("    holidays: [2026-12-24T10:00:00]\n"), 6,
                          "schedules[0].holidays[0]", "zero time"),
    "holidays-not-a-list": (rule_with("    holidays: 2026-12-24\n"), 6,
                            "schedules[0].holidays", "expected a list"),
    "rule-unknown-zone": (rule_with(WINDOW + "    timezone: CEST\n"), 9,
                          "schedules[0].timezone", "unknown time zone"),
    "rule-bad-grace": (rule_with(WINDOW + "    gracePeriod: -5m\n"), 9,
                       "schedules[0].gracePeriod", "invalid duration"),
    # --- hostile input: refused quickly as bad input, never an internal error
    "grace-overflows": (HEAD + "defaults:\n  gracePeriod: 99999999999999999999d\n", 3,
                        "defaults.gracePeriod", "invalid duration"),
    "grace-too-long": (HEAD + "defaults:\n  gracePeriod: 400d\n", 3, "defaults.gracePeriod",
                       "longer than 366d"),
    "alias-bomb": (HEAD + "a0: &a0 [x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
    ), 7, "", "expands to more than 100000 values"),
    "deep-flow-nesting": (HEAD + "x: " + "[" * 2000 + "]" * 2000 + "\n", 1, "",
                          "nested deeper than 32 levels"),
    "deep-block-nesting": (HEAD + "".join(" " * i + "a:\n" for i in range(40)) + " " * 40 + "b\n",
                           9, "", "nested deeper than 32 levels"),
    "control-character": (HEAD + "\x1f\n", 2, "", "unacceptable character"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("content", "line", "path", "fragment"), list(CASES.values()), ids=list(CASES)
)
def test_bad_schedule_is_reported_with_file_line_and_path(
    tmp_path: Path, content: str, line: int, path: str, fragment: str
) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(content)
    result = CliRunner().invoke(app, ["validate", "--schedule", str(schedule)])
    assert result.exit_code == 1, result.output
    where = f"{schedule}:{line}: {path + ': ' if path else ''}"
    matching = [line for line in result.stderr.splitlines() if where in line]
    assert matching, f"no line with {where!r} in:\n{result.stderr}"
    assert any(fragment in line for line in matching), result.stderr
    assert "Traceback" not in result.output


def test_there_are_at_least_25_cases() -> None:
    assert len(CASES) >= 25


def test_a_schedule_larger_than_a_configmap_is_refused_unread(tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(HEAD + "# " + "x" * (50 * 1024 * 1024) + "\n")
    result = CliRunner().invoke(app, ["validate", "--schedule", str(schedule)])
    assert result.exit_code == 1, result.output
    assert f"{schedule}: larger than 1024 KiB" in result.stderr
