"""The external tools an integration test runs, from the project's own install steps.

A tool that is not built skips the test on a developer machine and fails it when CI=true, so CI
cannot go green by not running the check. The message names the make target that provides it.
"""

from __future__ import annotations

import os

import pytest

from devtools.tools import ToolNotFoundError, find_tool


def require_tool(name: str) -> str:
    """The path of ``name`` (see :func:`devtools.tools.find_tool`), or skip / fail the test."""
    try:
        return str(find_tool(name))
    except ToolNotFoundError as err:
        reason = str(err)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the integration tests must run)", pytrace=False)
    pytest.skip(reason)
