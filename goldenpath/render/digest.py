"""Input digests: a digest of exactly what one team's rendered objects depend on.

A team's objects (every object whose coordinates name the team) are a pure function of:

- the platform spec (clusters, environments, defaults, naming of repositories, ...);
- the team's own spec;
- the environments of the teams its ``network.allowFromTeams`` names (the allow list
  names only those of their namespaces that exist);
- which teams list it in their ``network.allowFromTeams``, and their environments (its
  namespaces may send to theirs in the environments both have);
- goldenpath's own code, and the libraries that shape its output or its guardrails
  (:func:`goldenpath.spec.fingerprint.unit_fingerprint`: the modules that shape a
  unit and decide its guardrails, not the whole package).

Nothing else: ``tests/render/test_digest.py`` changes every input outside the digest and
proves the team's objects stay the same. So when the digest recorded with a team's files
equals the current one, those files are what the current renderer would produce and
they passed the same guardrails when they were written: apply may keep them without
rendering or checking the team again. Cluster-level objects (which list every team's
namespaces) are not covered; they are always rendered and checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from goldenpath.spec import fingerprint
from goldenpath.spec.resolve import PlatformSpec
from goldenpath.spec.teams import TeamFacts


def team_digests(spec: PlatformSpec, names: Iterable[str] | None = None) -> dict[str, str]:
    """Team name -> its input digest, for every team of ``spec`` or the teams ``names``
    of it (from the teams' facts and document digests: no team model is needed)."""
    common = hashlib.sha256(fingerprint.unit_fingerprint().encode())
    common.update(b"\0" + spec.digests[""].encode())
    chosen = spec.team_names if names is None else sorted(set(names) & spec.entry.keys())
    environments = _Environments()
    return {name: _team_digest(spec, name, common.copy(), environments) for name in chosen}


def affected(before: PlatformSpec, after: PlatformSpec, team: str) -> set[str]:
    """The teams of ``after`` whose input digest may differ from ``before``'s, when the
    two differ in team ``team``'s file only: that team, and, unless it was there with the
    same environments and ``allowFromTeams``, the teams it names and the teams naming
    it (before and after)."""
    old = before.entry.get(team)
    new = after.entry.get(team)
    same = old is not None and new is not None and \
        (old.facts.environments, old.facts.allow_from_teams) == \
        (new.facts.environments, new.facts.allow_from_teams)
    found = {team}
    if not same:
        for entry in (old, new):
            if entry is not None:
                found.update(entry.facts.allow_from_teams)
        found.update(facts.name for facts in (*before.listed_by(team), *after.listed_by(team)))
    return found & after.entry.keys()


def _team_digest(spec: PlatformSpec, name: str, digest: hashlib._Hash,
                 environments: _Environments) -> str:
    peers = sorted(set(spec.facts(name).allow_from_teams) & spec.entry.keys())
    admitted = environments.of(spec.facts(peer) for peer in peers)
    callees = environments.of(spec.listed_by(name))
    digest.update(f"\0{spec.digests[name]}\0{admitted}\0{callees}".encode())
    return "sha256:" + digest.hexdigest()


class _Environments:
    """{"<team>":["<env>",...],...} for teams (in name order), as
    json.dumps(sort_keys=True) writes it; team and environment names are DNS labels,
    which JSON needs no escaping for. Each team's part is made once per spec (a team
    is the peer of several), not once per team naming it."""

    def __init__(self) -> None:
        self._parts: dict[str, str] = {}

    def of(self, teams: Iterable[TeamFacts]) -> str:
        return "{" + ",".join(self._part(team) for team in teams) + "}"

    def _part(self, team: TeamFacts) -> str:
        part = self._parts.get(team.name)
        if part is None:
            envs = ",".join(f'"{env}"' for env in team.environments)
            part = self._parts[team.name] = f'"{team.name}":[{envs}]'
        return part
