"""A platform with some teams replaced, its indexes derived from its parent's.

A plan or a submitted change at 1,000 teams replaces one team's file in the platform a
process keeps (:func:`goldenpath.spec.loader.with_team_files`). What every rule and
guardrail asks of the whole platform (the teams by name, the namespaces they own, who
lists whom in ``allowFromTeams``, the document digests, what the teams claim that must
be unique, the teams naming a team that does not exist) was computed once for the
parent; :func:`derived` updates the changed teams' part of each, instead of walking
every team again. Lists are spliced and dictionaries copied in C; what is walked in
Python is the changed teams only.

Guarantee: each derived index equals, order included, what the child would compute on
its own from its entries (``tests/spec/test_derive.py`` checks it over random sequences
of edits). An index is derived only where that holds by construction: the parent's
entries are in strictly increasing name order (``PlatformSpec.ordered``: the loader's
are), and, for the namespaces and claims, the parent has no clash (a loaded platform
never has one). Anything else is left for the child to compute when asked, as before.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from goldenpath.spec.resolve import Claims, PlatformSpec, claim, namespace_name
from goldenpath.spec.teams import TeamEntry, TeamFacts

_T = TypeVar("_T")
#: team name -> its new entry, or None: removed
Changes = Mapping[str, TeamEntry | None]


def derived(parent: PlatformSpec, changes: Changes, sources: dict[str, str]) -> PlatformSpec:
    """``parent`` with the teams ``changes`` replaced, added or removed, named by
    ``sources``; its indexes derived from ``parent``'s (computed first when missing:
    the parent is the one kept, its children come and go)."""
    if not parent.ordered or parent.listings is not None:  # a subset's answers its own
        entries = sorted([*(e for e in parent.entries if e.name not in changes),
                          *(e for e in changes.values() if e is not None)],
                         key=lambda entry: entry.name)
        return PlatformSpec(parent.platform, tuple(entries), sources, parent.digests[""])
    names = list(parent.team_names)
    steps = _steps(names, changes)
    entries = _spliced(list(parent.entries), steps)
    child = PlatformSpec(parent.platform, tuple(entries), sources, parent.digests[""])
    known: dict[str, Any] = child.__dict__  # where cached_property keeps its values
    names = _spliced(names, [(at, there, None if new is None else new.name)
                             for at, there, new in steps])
    known["team_names"] = tuple(names)
    known["ordered"] = True
    if all(there and new is not None for _, there, new in steps):
        # teams replaced, none added or removed (the common change): a value assigned
        # to a key already there keeps its place, so a copy keeps the order
        known["entry"] = {**parent.entry, **changes}
        known["digests"] = {**parent.digests,
                            **{name: new.digest for name, new in changes.items() if new}}
    else:
        known["entry"] = dict(zip(names, entries, strict=True))
        digests = list(parent.digests.items())  # "" first, then the teams in name order
        known["digests"] = dict([digests[0], *_spliced(digests[1:], [
            (at, there, None if new is None else (new.name, new.digest))
            for at, there, new in steps])])
    if "teams" in parent.__dict__:
        known["teams"] = tuple(_spliced(list(parent.teams), [
            (at, there, None if new is None else new.model) for at, there, new in steps]))
    known["_listings"] = _listings(parent, changes)
    claims = _claims(parent, changes)
    if claims is not None:
        known["claims"] = claims
        namespaces = _namespaces(parent, child, changes) if not claims.clashing else None
        if namespaces is not None:
            known["tenant_namespaces"] = namespaces
    known["dangling"] = _dangling(parent, child, changes)
    return child


def _steps(names: Sequence[str], changes: Changes) -> list[tuple[int, bool, TeamEntry | None]]:
    """(position in ``names``, whether the team is there, its new entry or None) of each
    change, last first: applied in that order, each position is still the right one
    (a team added before one there at the same position is smaller, so goes first)."""
    steps = []
    for name in sorted(changes, reverse=True):
        at = bisect_left(names, name)
        steps.append((at, at < len(names) and names[at] == name, changes[name]))
    return steps


def _spliced(items: list[_T], steps: Sequence[tuple[int, bool, _T | None]]) -> list[_T]:
    """``items`` (one per team, in name order) with each step applied (see ``_steps``)."""
    for at, there, new in steps:
        if new is None:
            if there:
                del items[at]
        elif there:
            items[at] = new
        else:
            items.insert(at, new)
    return items


def _listings(parent: PlatformSpec, changes: Changes) -> dict[str, tuple[TeamFacts, ...]]:
    """``PlatformSpec._listings`` of the child: the changed teams' old facts taken out of
    the lists of the teams they named, their new facts put in."""
    found = dict(parent._listings)
    touched: set[str] = set()
    for name in changes:
        old = parent.entry.get(name)
        if old is not None:
            for listed in set(old.facts.allow_from_teams) - {name}:
                found[listed] = tuple(f for f in found[listed] if f.name != name)
                touched.add(listed)
    for name, new in changes.items():
        if new is not None:
            for listed in set(new.facts.allow_from_teams) - {name}:
                found[listed] = (*found.get(listed, ()), new.facts)
                touched.add(listed)
    for listed in touched:
        if found[listed]:
            found[listed] = tuple(sorted(found[listed]))
        else:
            del found[listed]
    return found


def _claims(parent: PlatformSpec, changes: Changes) -> Claims | None:
    """The child's claims: the parent's without the changed teams' old claims, with their
    new ones (None when the parent has a clash, or an environment no cluster hosts: a
    platform that valid is never derived from; its child builds its own)."""
    before = parent.claims
    if before.clashing or not before.complete:
        return None
    namespaces, hosts = dict(before.namespaces), dict(before.hosts)
    for name in changes:
        old = parent.entry.get(name)
        if old is None:
            continue
        for env in old.facts.environments:
            namespaces.pop(namespace_name(name, env), None)
        for _, host, _ in old.facts.hosts:
            hosts.pop(host, None)
    clashing: set[str] = set()
    complete = True
    for name in sorted(changes):
        new = changes[name]
        if new is not None:
            complete &= claim(new.facts, parent.cluster_names, namespaces, hosts, clashing)
    return Claims(namespaces, hosts, frozenset(clashing), complete, in_order=False)


def _namespaces(parent: PlatformSpec, child: PlatformSpec, changes: Changes
                ) -> Mapping[str, tuple[str, str, str]] | None:
    """``tenant_namespaces`` of a child with no clash: the parent's items (grouped by team,
    in name order) with each changed team's group replaced. None when the parent has not
    built them, or a new team names an environment no cluster hosts (the child's own
    build says so, as before)."""
    owned: Mapping[str, tuple[str, str, str]] | None = \
        parent.__dict__.get("tenant_namespaces")
    if owned is None and parent.claims.in_order and parent.claims.complete:
        owned = parent.tenant_namespaces  # the claims' own map (no clash: checked)
    if owned is None:
        return None
    cluster_of = child.cluster_of
    groups: dict[str, dict[str, tuple[str, str, str]]] = {}
    for name in sorted(changes):
        new = changes[name]
        group = groups[name] = {}
        if new is not None:
            for env in new.facts.environments:
                cluster = cluster_of.get(env)
                if cluster is None:
                    return None
                group[namespace_name(name, env)] = (cluster.name, name, env)
    if all(_same_group(parent, name, group) for name, group in groups.items()):
        return owned  # the changed teams kept their environments (a quota change, ...)
    items = list(owned.items())
    for name, group in groups.items():
        items[bisect_left(items, name, key=_team_of):
              bisect_right(items, name, key=_team_of)] = group.items()
    return MappingProxyType(dict(items))


def _same_group(parent: PlatformSpec, name: str, group: dict[str, tuple[str, str, str]]
                ) -> bool:
    """Team ``name`` had the namespaces ``group`` in the parent, in that order (their
    values follow from the names: cluster, team and environment)."""
    old = parent.entry.get(name)
    return old is not None and list(dict.fromkeys(
        namespace_name(name, env) for env in old.facts.environments)) == list(group)


def _team_of(item: tuple[str, tuple[str, str, str]]) -> str:
    return item[1][1]


def _dangling(parent: PlatformSpec, child: PlatformSpec, changes: Changes) -> frozenset[str]:
    """The child's teams naming a team it does not have: of those that did in the parent,
    the changed teams and the teams that named a changed one, those that still do."""
    listings = parent._listings
    maybe = set(parent.dangling) | changes.keys()
    for name in changes:
        maybe.update(facts.name for facts in listings.get(name, ()))
    known = child.entry
    return frozenset(name for name in maybe if name in known
                     and any(other not in known for other in known[name].facts.allow_from_teams))
