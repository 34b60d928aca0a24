"""Branch names goldenpath fetches and pushes (``spec.gitops.targetRevision``,
``apply --branch``): git's rules for ``refs/heads/<name>`` (git-check-ref-format), and
the names git accepts there but that would mean something else on its command line or
to a reader: ``-x`` (an option), ``HEAD`` and ``@`` (git's own names), ``refs/heads/x``
(which would become ``refs/heads/refs/heads/x``).
"""

from __future__ import annotations

#: characters git-check-ref-format refuses anywhere in a ref name
_FORBIDDEN = frozenset(" ~^:?*[\\\x7f") | frozenset(chr(c) for c in range(32))
MAX_LENGTH = 255


def branch_problem(name: str) -> str | None:
    """What makes ``name`` unusable as a branch name, or None when git and goldenpath
    both accept it."""
    problem = _ambiguous(name)
    if problem is None and (bad := sorted(set(name) & _FORBIDDEN)):
        problem = f"contains {bad[0]!r}, which git does not allow in a branch name"
    return problem or _ref_format(name)


def _ambiguous(name: str) -> str | None:
    if not name:
        return "is empty"
    if len(name) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    if name.startswith("-"):
        return "starts with '-', which git would read as an option"
    if name in ("HEAD", "@"):
        return "is git's own name for the current commit, not a branch"
    if name.startswith("refs/"):
        return "is a full ref name; give the branch name alone (main, not refs/heads/main)"
    return None


def _ref_format(name: str) -> str | None:
    for sequence in ("@{", ".."):
        if sequence in name:
            return f"contains {sequence!r}, which git does not allow in a branch name"
    if name.endswith("/") or name.endswith(".") or "//" in name or name.startswith("/"):
        return "has an empty component or ends with '/' or '.'"
    for component in name.split("/"):
        if component.startswith(".") or component.endswith(".lock"):
            return (f"has the component {component!r}; components may not start with '.' "
                    "or end with '.lock'")
    return None
