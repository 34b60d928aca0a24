"""Which teams passed the guardrails, by input digest: what lets ``validate`` and
``render`` check only the teams whose inputs changed since they last passed.

The per-team guardrails (every guardrail but the global ones, see :mod:`goldenpath.policy`)
decide about a team from its objects, the cluster-level objects beside them and the
platform spec. A team's objects are a pure function of its input digest
(:mod:`goldenpath.render.digest`), which covers the platform spec, the team's spec, its
peers, and the code of the renderer and of the guardrails themselves with the library
versions they use (:func:`~goldenpath.spec.fingerprint.unit_fingerprint`). So "team T
passed under digest D" holds for as long as T's digest is D: the argument by which apply
keeps a team the repository records under its current digest without rendering it. The
global guardrails (capacity, the platform AppProject) are never taken from here: they
run over every team each time.

Recorded: team -> the digest it last passed under, for the teams of the last spec that
passed (so never more entries than that spec has teams), in one file of the spec cache
directory: a magic, an HMAC-SHA-256 of the body under the state directory's key
(:func:`goldenpath.spec.cache.secret_key`, mode 0600), and the body as JSON. Only a run
in which every guardrail passed writes it, and only for the teams it checked (or whose
recorded digest was still current).

Nothing in it is trusted beyond what it can claim. A file that is not a regular file,
is larger than :data:`MAX_BYTES`, is not signed by this state's key, or is not JSON of
the expected shape is ignored: every team is checked and the next passing run writes it
afresh. An entry only ever answers for one digest: a team whose spec, peers, platform or
goldenpath changed has another digest and is checked, and a tenant cannot choose its
inputs so that their SHA-256 is a digest that passed. Whoever can sign an entry can read
the key, that is runs as goldenpath's own user and could change goldenpath itself.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from goldenpath.spec.cache import read_bounded, secret_key
from goldenpath.statefile import write_atomic

FILE = "verdicts.json"
#: Far above what 1,000 teams need (about 100 KB).
MAX_BYTES = 64 << 20
_FORMAT = 1
_MAGIC = b"gpverd1\0"
_MAC_BYTES = 32
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class Verdicts:
    """The teams that passed, by the input digest they passed under."""

    def __init__(self, directory: Path | None, passed: dict[str, str], key: bytes = b"") -> None:
        self._dir = directory
        self._passed = passed
        self._key = key

    @classmethod
    def open(cls, directory: Path | None) -> Verdicts:
        """The verdicts kept in ``directory``; none (and none kept) without one."""
        if directory is None:
            return cls(None, {})
        try:
            key = secret_key(directory)
        except OSError:  # no key, no verdicts: every team is checked
            return cls(None, {})
        return cls(directory, _unseal(key, directory / FILE), key)

    def passed(self, inputs: Mapping[str, str]) -> frozenset[str]:
        """The teams of ``inputs`` (team -> current input digest) that passed under
        exactly that digest."""
        return frozenset(team for team, digest in inputs.items()
                         if self._passed.get(team) == digest)

    def save(self, inputs: Mapping[str, str], checked: Iterable[str]) -> None:
        """Record a run in which every guardrail passed: the teams ``checked`` passed under
        their digest in ``inputs`` (team -> current input digest of every team); the other
        teams keep their verdict if it is for their current digest; any other is dropped.
        A cache: a failure to write it is no failure of the run."""
        if self._dir is None:
            return
        kept = {team: digest for team, digest in inputs.items()
                if self._passed.get(team) == digest}
        kept.update({team: inputs[team] for team in checked})
        if kept == self._passed:
            return
        body = json.dumps({"format": _FORMAT, "teams": dict(sorted(kept.items()))},
                          separators=(",", ":")).encode()
        with contextlib.suppress(OSError):
            write_atomic(self._dir / FILE, _MAGIC + _mac(self._key, body) + body)
            self._passed = kept


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def _unseal(key: bytes, path: Path) -> dict[str, str]:
    """The verdicts in ``path`` if this key signed them and they have the expected
    shape, else none."""
    try:
        data = read_bounded(path, MAX_BYTES)
    except (OSError, ValueError):  # absent, not a regular file, too large
        return {}
    head, body = len(_MAGIC), len(_MAGIC) + _MAC_BYTES
    if data[:head] != _MAGIC or not hmac.compare_digest(data[head:body],
                                                        _mac(key, data[body:])):
        return {}
    try:
        found = json.loads(data[body:])
    except ValueError:
        return {}
    teams = found.get("teams") if isinstance(found, dict) and \
        found.get("format") == _FORMAT else None
    if not isinstance(teams, dict) or not all(
            isinstance(team, str) and isinstance(digest, str) and _DIGEST.fullmatch(digest)
            for team, digest in teams.items()):
        return {}
    return teams
