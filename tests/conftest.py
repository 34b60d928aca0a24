"""Session-wide test settings shared by every test module."""

from __future__ import annotations

import os

import pytest

from goldenpath.services import passedteams

# Tests make real commits; a fresh CI machine has no git identity, so give one here
# rather than depend on the machine's global configuration.
for _key, _value in {
    "GIT_AUTHOR_NAME": "goldenpath tests",
    "GIT_AUTHOR_EMAIL": "tests@goldenpath.invalid",
    "GIT_COMMITTER_NAME": "goldenpath tests",
    "GIT_COMMITTER_EMAIL": "tests@goldenpath.invalid",
}.items():
    os.environ.setdefault(_key, _value)


@pytest.fixture(autouse=True)
def _no_teams_passed_before() -> None:
    """Each test starts with an empty memo of teams that passed (a process-wide memo,
    see goldenpath.services.passedteams): a team another test checked under the same
    digest is rendered and checked again, so what a test counts or breaks is its own."""
    passedteams.PASSED.clear()
