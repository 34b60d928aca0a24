"""A platform with some teams replaced derives its indexes from its parent's
(goldenpath.spec.derive): over random sequences of edits, each derived index equals what
the child computes from scratch, and ``with_team_files`` reports exactly the issues, in
the order, that checking the child from scratch reports (the algorithm it had before it
derived anything, kept here as the oracle)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from goldenpath.errors import SpecError, SpecIssue
from goldenpath.spec import crossref, load_platform
from goldenpath.spec.loader import _entry_of, with_team_files
from goldenpath.spec.resolve import PlatformSpec, namespace_name
from goldenpath.spec.teams import TeamEntry
from tests.factories import platform_doc, team_doc, write_platform

#: "a" in x-dev and "a-x" in dev both make namespace a-x-dev: names that can clash.
TEAMS = ("a", "a-x", "b", "c", "d")
ENVS = ("dev", "x-dev", "prod")
HOSTS = ("one.example.com", "two.example.com", "three.example.com")


def _platform() -> dict[str, Any]:
    return platform_doc(
        clusters=[
            {"name": "nonprod", "server": "https://nonprod.example.com",
             "environments": ["dev", "x-dev"]},
            {"name": "prod", "server": "https://kubernetes.default.svc",
             "environments": ["prod"]},
        ],
        environments=[{"name": "dev"}, {"name": "x-dev"}, {"name": "prod"}],
    )


def _doc(name: str, envs: list[str], hosts: list[str] = (),  # type: ignore[assignment]
         allow: list[str] = (), cpu: str = "1") -> dict[str, Any]:  # type: ignore[assignment]
    """A Team in ``envs`` with one service per host in ``hosts``, served in the first
    environment a cluster hosts, admitting ``allow``."""
    served = [e for e in envs if e in ENVS] or envs
    services = [{"name": f"svc{i}", "template": "python-service", "port": 8080,
                 "replicas": dict.fromkeys(served, 1),
                 "ingress": {"host": host, "environments": served[:1]}}
                for i, host in enumerate(hosts)]
    return team_doc(name, environments=envs, services=services, quota={"cpu": cpu},
                    network={"allowFromTeams": list(allow)})


@st.composite
def team_docs(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A Team document, valid or (an unknown environment, a quota over the maximum, an
    allowFromTeams naming a team that may not exist, a taken host) not."""
    envs = draw(st.lists(st.sampled_from(ENVS), min_size=1, max_size=3, unique=True))
    if draw(st.integers(0, 9)) == 0:
        envs.append("qa")  # no cluster hosts it
    hosts = draw(st.lists(st.sampled_from(HOSTS), max_size=2))
    allow = draw(st.lists(st.sampled_from((*TEAMS, "gone")), max_size=2, unique=True))
    cpu = draw(st.sampled_from(("1", "2", "500")))  # 500: over the built-in maximum 64
    return _doc(name, envs, hosts, allow, cpu)


@st.composite
def edits(draw: st.DrawFn) -> dict[str, dict[str, Any] | None]:
    """One change: one or two teams replaced, added (a document) or removed (None)."""
    names = draw(st.lists(st.sampled_from(TEAMS), min_size=1, max_size=2, unique=True))
    return {name: draw(st.none() | team_docs(name)) for name in names}


def _oracle(spec: PlatformSpec, files: dict[str, tuple[str, bytes | None]]
            ) -> list[SpecIssue] | PlatformSpec:
    """``with_team_files`` as it was before it derived anything: the child built from its
    entries, its issues found by walking every team."""
    issues: list[SpecIssue] = []
    sources = {name: file for name, file in spec.sources.items() if name not in files}
    new: dict[str, TeamEntry] = {}
    for name, (file, raw) in sorted(files.items()):
        entry = _entry_of(name, file, raw, issues) if raw is not None else None
        if entry is not None:
            new[name] = entry
            sources[name] = file
    if issues:
        return issues
    entries = sorted([*(e for e in spec.entries if e.name not in files), *new.values()],
                     key=lambda entry: entry.name)
    child = PlatformSpec(spec.platform, tuple(entries), sources, spec.digests[""])
    for entry in new.values():
        issues.extend(crossref.team_issues(child, entry.model, sources[entry.name]))
    for entry in child.entries:
        issues.extend(crossref.peer_issues(child, entry.facts, sources[entry.name]))
    issues.extend(_global_walk(child))
    if not issues and not child.entries:
        issues.append(SpecIssue(min(file for file, _ in files.values()), "",
                                "is the last team file; a platform needs at least one team"))
    return issues or child


def _oracle_entries(spec: PlatformSpec, files: dict[str, tuple[str, bytes | None]]
                    ) -> list[TeamEntry]:
    """The entries of the child ``files`` make of ``spec``, in name order."""
    new = [_entry_of(name, file, raw, []) for name, (file, raw) in files.items()
           if raw is not None]
    return sorted([*(e for e in spec.entries if e.name not in files),
                   *(e for e in new if e is not None)], key=lambda entry: entry.name)


def _global_walk(spec: PlatformSpec) -> Iterator[SpecIssue]:
    """The rules across teams as they were written before ``claims``: every team walked."""
    namespaces: dict[str, str] = {}
    for team in (entry.facts for entry in spec.entries):
        for i, env in enumerate(team.environments):
            namespace = namespace_name(team.name, env)
            if namespaces.setdefault(namespace, team.name) != team.name:
                yield SpecIssue(spec.sources.get(team.name, team.name), f"spec.environments[{i}]",
                                f"namespace {namespace!r} is already team "
                                f"{namespaces[namespace]}'s; choose another team name",
                                env, True)
    owners: dict[str, str] = {}
    for team in (entry.facts for entry in spec.entries):
        for i, host, service in team.hosts:
            if host in owners:
                yield SpecIssue(spec.sources.get(team.name, team.name),
                                f"spec.services[{i}].ingress.host",
                                f"is already used by {owners[host]}; ingress hosts must be unique",
                                host, True)
            else:
                owners[host] = f"{team.name}/{service}"


#: The indexes derive.derived sets, and how to compare one with its from-scratch value.
INDEXES = ("team_names", "entry", "digests", "teams", "_listings", "claims",
           "tenant_namespaces", "dangling", "ordered")


def _comparable(name: str, value: Any) -> Any:
    if name == "claims":  # the maps are exact when nothing clashes (order: not derived)
        return (value.clashing, value.complete) if value.clashing else \
            (value.namespaces, value.hosts, value.complete)
    if name in ("entry", "digests", "tenant_namespaces"):  # order included
        return list(value.items())
    if name == "_listings":  # keyed by set order: compared as a mapping
        return dict(value)
    return value


def _namespaces_walk(spec: PlatformSpec) -> list[tuple[str, tuple[str, str, str]]]:
    """``tenant_namespaces`` as it was built before the claims: a walk of every team."""
    return list({
        namespace_name(facts.name, env): (spec.cluster_of[env].name, facts.name, env)
        for facts in (entry.facts for entry in spec.entries)
        for env in facts.environments
    }.items())


def _assert_namespaces_as_walked(spec: PlatformSpec) -> None:
    try:
        expected = _namespaces_walk(spec)
    except KeyError:  # an environment no cluster hosts: asking fails as it did
        fresh = PlatformSpec(spec.platform, spec.entries, dict(spec.sources))
        with pytest.raises(KeyError):
            _ = fresh.tenant_namespaces
        return
    assert list(spec.tenant_namespaces.items()) == expected


def _assert_derived_exact(child: PlatformSpec) -> None:
    fresh = PlatformSpec(child.platform, child.entries, dict(child.sources), child.digests[""])
    _assert_namespaces_as_walked(fresh)
    derived = [name for name in INDEXES if name in child.__dict__]
    assert {"team_names", "entry", "digests", "_listings", "claims", "dangling"} <= set(derived)
    for name in derived:
        assert _comparable(name, child.__dict__[name]) == \
            _comparable(name, getattr(fresh, name)), name
    assert child.entries == fresh.entries
    assert [e.name for e in child.entries] == sorted(e.name for e in child.entries)


def _start(root: Path) -> PlatformSpec:
    teams = [_doc(name, ["dev", "prod"]) for name in ("a", "b", "c")]
    write_platform(root, _platform(), teams)
    loaded = load_platform(root)
    sources = {name: f"teams/{name}.yaml" for name in loaded.team_names}
    return PlatformSpec(loaded.platform, loaded.entries, {"": "platform.yaml", **sources},
                        loaded.digests[""])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(edits(), st.booleans()), min_size=1, max_size=8))
def test_derived_equals_from_scratch(
        tmp_path_factory: pytest.TempPathFactory,
        steps: list[tuple[dict[str, dict[str, Any] | None], bool]]) -> None:
    spec = _start(tmp_path_factory.mktemp("derive"))
    for edit, settle in steps:
        if settle:  # a snapshot has these built; a plan's spec may not
            _ = spec.tenant_namespaces, spec.teams
        files = {name: (f"teams/{name}.yaml",
                        None if doc is None else yaml.safe_dump(doc).encode())
                 for name, doc in edit.items()}
        expected = _oracle(spec, files)
        try:
            child = with_team_files(spec, files)
        except SpecError as error:
            assert isinstance(expected, list)
            _assert_namespaces_as_walked(PlatformSpec(  # a platform the loader refuses
                spec.platform, tuple(_oracle_entries(spec, files)), dict(spec.sources)))
            event("refused: " + ", ".join(sorted({i.path.split("[")[0] for i in expected})))
            assert error.issues == SpecError(expected).issues  # sorted as a SpecError sorts
            continue
        assert isinstance(expected, PlatformSpec), expected
        event(f"accepted, {len(child.__dict__.keys() & set(INDEXES))} indexes derived")
        assert child.team_names == expected.team_names
        assert child.digests == expected.digests
        _assert_derived_exact(child)
        spec = child


def test_a_clash_made_and_resolved_is_reported_as_before(tmp_path: Path) -> None:
    """Named cases the random walk covers: a new team's namespace taken, a host taken, a
    team named by another removed, and each resolved again."""
    spec = _start(tmp_path)
    taken = {"a-x": ("teams/a-x.yaml", yaml.safe_dump(
        _doc("a-x", ["dev"])).encode())}
    spec = with_team_files(spec, {"a": ("teams/a.yaml", yaml.safe_dump(
        _doc("a", ["prod"])).encode())})
    with_x = with_team_files(spec, taken)  # a-x-dev is free while a is not in x-dev
    clash = {"a": ("teams/a.yaml", yaml.safe_dump(
        _doc("a", ["x-dev"])).encode())}
    with pytest.raises(SpecError) as info:
        with_team_files(with_x, clash)
    assert [str(i) for i in info.value.issues] == [
        # a comes first by name: the later team is the one told, as a load tells it
        "teams/a-x.yaml: spec.environments[0]: \"dev\": namespace 'a-x-dev' is already "
        "team a's; choose another team name"]
    named = with_team_files(with_x, {"b": ("teams/b.yaml", yaml.safe_dump(
        _doc("b", ["dev"], allow=["c"])).encode())})
    with pytest.raises(SpecError) as info:
        with_team_files(named, {"c": ("teams/c.yaml", None)})
    assert [str(i) for i in info.value.issues] == [
        'teams/b.yaml: spec.network.allowFromTeams[0]: "c": is not a team '
        "(known: a, a-x, b)"]
    served = with_team_files(named, {"c": ("teams/c.yaml", yaml.safe_dump(
        _doc("c", ["dev"], hosts=["one.example.com"])).encode())})
    again = {"d": ("teams/d.yaml", yaml.safe_dump(
        _doc("d", ["dev"], hosts=["one.example.com"])).encode())}
    with pytest.raises(SpecError) as info:
        with_team_files(served, again)
    assert [str(i) for i in info.value.issues] == [
        'teams/d.yaml: spec.services[0].ingress.host: "one.example.com": is already used '
        "by c/svc0; ingress hosts must be unique"]
    moved = with_team_files(served, {"c": ("teams/c.yaml", yaml.safe_dump(
        _doc("c", ["dev"])).encode()), **again})
    _assert_derived_exact(moved)
    assert moved.claims.hosts == {"one.example.com": ("d", "svc0")}
    assert not moved.claims.in_order  # derived: the child's tenant_namespaces are spliced
    assert list(moved.tenant_namespaces) == [
        namespace_name(team, env) for team in moved.team_names
        for env in moved.facts(team).environments]


@pytest.mark.parametrize("parent", [
    {"a": _doc("a", ["dev"], allow=["gone"]), "b": _doc("b", ["dev"])},
    {"a": _doc("a", ["x-dev"]), "a-x": _doc("a-x", ["dev"]), "b": _doc("b", ["dev"])},
    {"a": _doc("a", ["dev"], hosts=["one.example.com"]),
     "b": _doc("b", ["dev"], hosts=["one.example.com"])},
], ids=["names-a-missing-team", "namespace-clash", "host-clash"])
def test_a_parent_built_in_memory_that_breaks_a_rule_is_still_reported(
        tmp_path: Path, parent: dict[str, dict[str, Any]]) -> None:
    """A platform the loader would refuse can still be built in memory; a change to
    another team of it reports what is wrong with it, as walking every team did."""
    platform = _start(tmp_path).platform
    issues: list[SpecIssue] = []
    entries = [_entry_of(name, f"teams/{name}.yaml", yaml.safe_dump(doc).encode(), issues)
               for name, doc in sorted(parent.items())]
    assert not issues
    spec = PlatformSpec(platform, tuple(e for e in entries if e is not None),
                        {name: f"teams/{name}.yaml" for name in parent})
    _ = spec.tenant_namespaces  # built, as a snapshot has it
    files = {"c": ("teams/c.yaml", yaml.safe_dump(_doc("c", ["prod"])).encode())}
    expected = _oracle(spec, files)
    assert isinstance(expected, list) and expected
    with pytest.raises(SpecError) as info:
        with_team_files(spec, files)
    assert info.value.issues == SpecError(expected).issues
    _assert_namespaces_as_walked(spec)
