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
recorded digest was still current). A run that changes few verdicts (one team checked
again at 1,000 teams) does not write them all again: it writes :data:`DELTA`, the
verdicts set and dropped since the file, signed the same way and naming the file's own
MAC, so it is read only with that very file (a file rewritten whole leaves any older
delta unread); together they hold exactly what a rewrite would. Past
:data:`_DELTA_SHARE` of the file, the file is rewritten and the delta dropped.

Nothing in it is trusted beyond what it can claim. A file that is not a regular file,
is larger than :data:`MAX_BYTES`, is not signed by this state's key, or is not JSON of
the expected shape is ignored (a delta too, or one naming another file's MAC): every
team is checked and the next passing run writes it afresh. An entry only ever answers
for one digest: a team whose spec, peers, platform or goldenpath changed has another
digest and is checked, and a tenant cannot choose its inputs so that their SHA-256 is a
digest that passed. Whoever can sign an entry can read
the key, that is runs as goldenpath's own user and could change goldenpath itself.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from goldenpath.spec.cache import read_bounded, secret_key
from goldenpath.statefile import write_atomic

FILE = "verdicts.json"
#: The verdicts set and dropped since FILE, for the FILE whose MAC it names.
DELTA = "verdicts.delta.json"
#: A delta changing more than this share of the verdicts is folded into the file.
_DELTA_SHARE = 1 / 8
_DELTA_MAGIC = b"gpvdel1\0"
#: Far above what 1,000 teams need (about 100 KB).
MAX_BYTES = 64 << 20
_FORMAT = 1
_MAGIC = b"gpverd1\0"
_MAC_BYTES = 32
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class Verdicts:
    """The teams that passed, by the input digest they passed under."""

    def __init__(self, directory: Path | None, passed: dict[str, str], key: bytes = b"",
                 base: tuple[bytes, dict[str, str]] | None = None) -> None:
        self._dir = directory
        self._passed = passed
        self._key = key
        #: the file's MAC and verdicts (``passed`` is them with the delta)
        self._base = base

    @classmethod
    def open(cls, directory: Path | None) -> Verdicts:
        """The verdicts kept in ``directory``; none (and none kept) without one."""
        if directory is None:
            return cls(None, {})
        try:
            key = secret_key(directory)
        except OSError:  # no key, no verdicts: every team is checked
            return cls(None, {})
        found, mac = _unseal(key, directory / FILE)
        teams = _teams(found)
        if teams is None:
            return cls(directory, {}, key)
        delta, _ = _unseal(key, directory / DELTA, _DELTA_MAGIC)
        changed = _teams(delta, "set") if isinstance(delta, dict) and \
            delta.get("base") == mac.hex() else None
        gone = delta.get("gone") if changed is not None else None
        if changed is None or not isinstance(gone, list) or \
                not all(isinstance(team, str) for team in gone):
            return cls(directory, teams, key, (mac, teams))
        merged = {**teams, **changed}
        for team in gone:
            merged.pop(team, None)
        return cls(directory, merged, key, (mac, teams))

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
        with contextlib.suppress(OSError):
            if not self._save_delta(self._dir, kept):
                body = _dumps({"format": _FORMAT, "teams": dict(sorted(kept.items()))})
                write_atomic(self._dir / FILE, _MAGIC + _mac(self._key, body) + body)
                with contextlib.suppress(FileNotFoundError):  # it names the old file
                    os.unlink(self._dir / DELTA)
            self._passed = kept

    def _save_delta(self, directory: Path, kept: dict[str, str]) -> bool:
        """Write what ``kept`` changed since the file as its delta, unless that is too
        large a share of it (False: write the file)."""
        if self._base is None:
            return False
        mac, base = self._base
        changed = {team: digest for team, digest in kept.items() if base.get(team) != digest}
        gone = sorted(base.keys() - kept.keys())
        if len(changed) + len(gone) > _DELTA_SHARE * len(base):
            return False
        body = _dumps({"format": _FORMAT, "base": mac.hex(),
                       "set": dict(sorted(changed.items())), "gone": gone})
        write_atomic(directory / DELTA, _DELTA_MAGIC + _mac(self._key, body) + body)
        return True


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def _unseal(key: bytes, path: Path, magic: bytes = _MAGIC) -> tuple[Any, bytes]:
    """The JSON in ``path`` (the verdicts, or with its magic the delta) and its MAC if
    this key signed it, else ``(None, b"")``."""
    try:
        data = read_bounded(path, MAX_BYTES)
    except (OSError, ValueError):  # absent, not a regular file, too large
        return None, b""
    head, body = len(magic), len(magic) + _MAC_BYTES
    if data[:head] != magic or not hmac.compare_digest(data[head:body],
                                                       _mac(key, data[body:])):
        return None, b""
    try:
        return json.loads(data[body:]), data[head:body]
    except ValueError:
        return None, b""


def _teams(found: Any, field: str = "teams") -> dict[str, str] | None:
    """The verdicts in ``found[field]`` if ``found`` has the expected shape, else None."""
    teams = found.get(field) if isinstance(found, dict) and \
        found.get("format") == _FORMAT else None
    if not isinstance(teams, dict) or not all(
            isinstance(team, str) and isinstance(digest, str) and _DIGEST.fullmatch(digest)
            for team, digest in teams.items()):
        return None
    return teams
