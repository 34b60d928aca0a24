"""The teams this process saw pass every per-team guardrail, with their objects, by input
digest: what lets the writer commit a change its submission check (or a plan) rendered
and checked, without rendering or checking that team again.

The API checks a team change when it is submitted (:func:`goldenpath.services.teams.
check_change`: the branch's head with the team's file replaced, rendered and checked as
apply would); the worker then commits it in a chain of commits
(:func:`goldenpath.services.gitops.apply_edits`), rendering and checking the team again
for the same file. On a 1,000-team platform that second render and check was about 14
ms of the 50 ms of CPU a commit took in the process (git's apart). Every render and
check that builds on a base (the submission check, a plan, each commit of a chain,
apply: ``_Target.for_base`` in :mod:`goldenpath.services.gitops`) takes from here the
teams found under the digest they have now, renders and checks the others, and records
those once every guardrail passed.

Why that keeps every guarantee (the argument of :mod:`goldenpath.policy.verdicts`, and
the one by which apply keeps a team the repository records under its current digest):

- A team's objects, and what the per-team guardrails decide about them, are a pure
  function of its input digest (:mod:`goldenpath.render.digest`: the platform spec, the
  team's spec, its peers' environments, and the code of the renderer, the guardrails
  and the serializer with the library versions they use). A team that passed under
  digest D and has digest D now renders to the same objects, which pass the same
  per-team guardrails. An entry answers for its one digest only: a team whose document,
  peers, platform or goldenpath changed since it passed has another digest and is
  rendered and checked again; a tenant cannot choose inputs whose SHA-256 is a digest
  that passed.
- A team taken from here is treated as a team the repository keeps: the cluster-level
  objects and every team not found here are rendered and checked as before, and the
  global guardrails (:data:`goldenpath.policy.GLOBAL`: capacity, argocd-projects) run
  over every team, those taken from here included.
- Only a pass records: the entries are made from the Bundle of a run whose guardrails
  all passed, after they passed, and hold exactly the objects that passed.
- Nothing is read from disk or from another process: every entry is this process's own
  render, checked by this process's own guardrails.

So every object written passed every guardrail for the inputs and code that produced it,
with or without this memo, and the bytes committed are the same
(``tests/services/test_passedteams.py``).

The memo is process-local and shared by threads (the API's request threads and its
worker threads): (team, digest) -> the team's objects (the Resources of the Bundle that
passed, shared and only ever read, as every consumer of a Bundle reads it), at most
:data:`MAX_TEAMS` entries and :data:`MAX_OBJECTS` objects in all (about 5.5 KB of memory
each), least recently used dropped first. A team with more objects than the whole budget
is not kept, nor are the teams of a run that rendered more teams than the memo holds (a
whole platform: they would only push each other out).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from goldenpath.render import Bundle, Resource

#: Teams kept: the changes of several worker batches (a batch takes up to 50).
MAX_TEAMS = 256
#: Objects kept in all (a team of the 1,000-team benchmark renders 112; about 45 MB).
MAX_OBJECTS = 8192

_Key = tuple[str, str]


class PassedTeams:
    """(team, input digest) -> the objects of the team that passed every per-team
    guardrail under that digest, within ``max_teams`` entries and ``max_objects``."""

    def __init__(self, max_teams: int = MAX_TEAMS, max_objects: int = MAX_OBJECTS) -> None:
        self.max_teams, self.max_objects = max_teams, max_objects
        self._entries: OrderedDict[_Key, tuple[Resource, ...]] = OrderedDict()
        self._objects = 0
        self._lock = threading.Lock()

    def found(self, inputs: Mapping[str, str]) -> dict[str, tuple[Resource, ...]]:
        """Team -> its objects, for the teams of ``inputs`` (team -> current input
        digest) that passed under exactly that digest."""
        with self._lock:
            out = {}
            for key in inputs.items():
                objects = self._entries.get(key)
                if objects is not None:
                    self._entries.move_to_end(key)
                    out[key[0]] = objects
            return out

    def record(self, passed: Bundle, inputs: Mapping[str, str]) -> None:
        """Keep the objects ``passed`` holds of the teams ``inputs`` names (team -> the
        input digest they were rendered under). ``passed`` must have passed every
        guardrail, the teams' per-team guardrails included."""
        if not inputs or len(inputs) > self.max_teams:
            return
        teams: dict[str, list[Resource]] = {team: [] for team in inputs}
        for resource in passed:
            found = teams.get(resource.coords.team or "")
            if found is not None:
                found.append(resource)
        with self._lock:
            for team, objects in teams.items():
                self._put((team, inputs[team]), tuple(objects))

    def _put(self, key: _Key, objects: tuple[Resource, ...]) -> None:
        if len(objects) > self.max_objects:
            return
        old = self._entries.pop(key, None)
        self._objects += len(objects) - (0 if old is None else len(old))
        self._entries[key] = objects
        while len(self._entries) > self.max_teams or self._objects > self.max_objects:
            _, dropped = self._entries.popitem(last=False)
            self._objects -= len(dropped)

    def size(self) -> tuple[int, int]:
        """(entries, objects) kept."""
        with self._lock:
            return len(self._entries), self._objects

    def teams(self) -> list[_Key]:
        """The (team, digest) kept, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._objects = 0


#: The process's memo.
PASSED = PassedTeams()

