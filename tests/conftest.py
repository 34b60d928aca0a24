"""Session-wide test settings shared by every test module."""

from __future__ import annotations

import os

# Tests make real commits; a fresh CI machine has no git identity, so give one here
# rather than depend on the machine's global configuration.
for _key, _value in {
    "GIT_AUTHOR_NAME": "goldenpath tests",
    "GIT_AUTHOR_EMAIL": "tests@goldenpath.invalid",
    "GIT_COMMITTER_NAME": "goldenpath tests",
    "GIT_COMMITTER_EMAIL": "tests@goldenpath.invalid",
}.items():
    os.environ.setdefault(_key, _value)
