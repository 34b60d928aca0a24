"""Branch names: whatever goldenpath accepts, git accepts as a branch; and the names
git would accept but misread (an option, HEAD, a full ref) are refused too."""

from __future__ import annotations

import subprocess

import pytest

from goldenpath.spec.refname import branch_problem

NAMES = ["main", "review/alpha-1", "release-2026.11", "a..b", "a b", "x.lock", "a/.b", ".a",
         "a/", "/a", "a//b", "a.", "a@{1}", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b",
         "a\x01", "a\x7f", "@", "", "-x", "--force", "HEAD", "refs/heads/main", "x" * 256,
         "héllo", "a@b", "a/b/c"]
#: git accepts these as branch names; goldenpath does not (see the module docstring)
AMBIGUOUS = {"-x", "--force", "HEAD", "@", "refs/heads/main", "x" * 256}


def _git_accepts(name: str) -> bool:
    done = subprocess.run(["git", "check-ref-format", f"refs/heads/{name}"],
                          capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.parametrize("name", NAMES, ids=[repr(n)[:20] for n in NAMES])
def test_goldenpath_accepts_a_subset_of_what_git_accepts(name: str) -> None:
    ours = branch_problem(name) is None
    if name in AMBIGUOUS:
        assert not ours
    else:
        assert ours == _git_accepts(name), branch_problem(name)
