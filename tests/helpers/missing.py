"""One rule for tests that need something outside Python (redis-server, PostgreSQL, chromium...): they skip
where it is not installed, except in CI (``CI`` set), which installs it and must never skip them."""

from __future__ import annotations

import os

import pytest


def skip_or_fail(missing: list[str], installed_by: str) -> None:
    """Nothing when ``missing`` is empty; else skip the test, or fail it in CI, naming each missing part
    and what installs it (``installed_by``: ".ci/run", "`make test-browser`"...)."""
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed ({installed_by} installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must not skip this test")
    pytest.skip(reason)
