"""What git said when it failed, fit for a user: git's own ``fatal:``/``error:`` (and a
remote's ``remote:``) lines, without the command line GitPython adds, goldenpath's
temporary directories, or credentials in URLs.

Pure text, no git import: both git adapters (``gitops.repo``, ``scaffold.vcs``) use it.
"""

from __future__ import annotations

import re
import signal
import tempfile

from goldenpath.statefile import ROOM

#: GitPython's wrapping of git's output in a GitCommandError: ``stderr: '...'``
_WRAPPER = re.compile(r"^(?:stderr|stdout): '(.*)'$", re.DOTALL)
_PREFIX = re.compile(r"^(?:fatal|error): ")
#: goldenpath's own temporary directories (caches being built, clones, fast-import streams)
_TEMPORARY = re.compile(re.escape(tempfile.gettempdir()) + r"/goldenpath-[^\s'\"]*")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
#: How git (its git://, ssh and curl transports) says the server could not be reached at
#: all, as opposed to reached and refusing (``remote error:``, ``Permission denied``,
#: ``Repository not found``, a rejected push): worth retrying later, as is a gateway that
#: answered for a server behind it that is down.
_UNREACHABLE = re.compile(
    r"unable to connect to |connection refused|connection timed out|operation timed out"
    r"|could not resolve host|temporary failure in name resolution|name or service not known"
    r"|network is unreachable|no route to host|connection reset by peer"
    r"|failed to connect to |returned error: 50[234]\b", re.IGNORECASE)


def explanation(output: str, status: object) -> str:
    """git's explanation of a failure from its output (GitPython's ``stderr`` or
    ``stdout``): the ``fatal:``, ``error:`` and ``remote:`` lines without their prefix
    (and the line that finishes one ending with a colon), joined with "; "; all lines
    when there are none of those."""
    text = _WRAPPER.sub(r"\1", output.strip())
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    said = [_PREFIX.sub("", line) for n, line in enumerate(lines)
            if _PREFIX.match(line) or line.startswith("remote: ") or _continues(lines, n)]
    return "; ".join(said or lines) or _status(status)


#: Signals that say why the kernel stopped git, and what to do about it.
_KILLED_BECAUSE = {
    signal.SIGXFSZ: f"a file it wrote outgrew the file size limit (the disk is full); {ROOM}",
}


def _status(status: object) -> str:
    """git's exit status in words; a negative one is the signal that killed it."""
    if isinstance(status, int) and status < 0:
        try:
            killer = signal.Signals(-status)
        except ValueError:
            return f"git was killed by signal {-status}"
        reason = _KILLED_BECAUSE.get(killer)
        return f"git was killed by {killer.name}" + (f": {reason}" if reason else "")
    return f"git exited with status {status}"


def _continues(lines: list[str], n: int) -> bool:
    """Whether line ``n`` goes on a ``fatal:`` line that ended with a colon (git's
    "unable to connect to host:" puts the reason, errno and all, on the next line)."""
    return n > 0 and _PREFIX.match(lines[n - 1]) is not None and lines[n - 1].endswith(":")


#: How git says a disk it wrote to is full (its own, or a remote's in ``remote:`` lines).
_FULL = re.compile(r"no space left on device|disk quota exceeded|file too large", re.IGNORECASE)


def disk_full(output: str, status: object) -> bool:
    """Whether git failed for want of room: it says so, or SIGXFSZ killed it."""
    return _FULL.search(output) is not None or status == -signal.SIGXFSZ


def unreachable(output: str) -> bool:
    """Whether git's output says the remote could not be reached (see ``_UNREACHABLE``)."""
    return _UNREACHABLE.search(output) is not None


def scrub(text: str) -> str:
    """``text`` without goldenpath's temporary paths or userinfo in URLs."""
    return _USERINFO.sub("***@", _TEMPORARY.sub("<temporary directory>", text))
