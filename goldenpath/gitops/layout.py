"""Where each rendered object lives in the platform control repository, and the files
goldenpath adds around them. The flow is Bundle -> units -> files::

    README.md                                   generated: explains this layout
    .goldenpath/owned/<unit>.txt                ownership manifests (see ownership.py)
    platform/platform.yaml, platform/teams/...  the specs rendered (see specfiles.py)
    clusters/<cluster>/kustomization.yaml       what the cluster's root Application syncs
    clusters/<cluster>/...                      objects, see goldenpath.render.paths
    tenants/<team>/...                          objects, see goldenpath.render.paths

Every directory holding manifests has a kustomization.yaml listing exactly goldenpath's
files, so ``kubectl kustomize`` on it shows what Argo CD applies. Objects are grouped in
*units* (one per team, one per cluster's platform objects, one for the layout files): the
unit is what apply reuses, rewrites or removes as a whole. Unit names are ``team-<team>``,
``cluster-<cluster>`` and ``layout``: different prefixes, so no team's record can be a
cluster's or the layout's. Object paths are collision-free by construction
(:mod:`goldenpath.render.paths`); :func:`check_paths` still refuses a tree in which two
files share a path, so no unit ever overwrites another's file or a layout file.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from goldenpath.errors import Conflict
from goldenpath.gitops import emit, ownership, specfiles
from goldenpath.gitops.ownership import UnitState
from goldenpath.gitops.specfiles import SpecFiles
from goldenpath.render import digest
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.render.paths import path_for
from goldenpath.spec import fingerprint
from goldenpath.spec.resolve import PlatformSpec

LAYOUT_UNIT = "layout"
README = "README.md"
KUSTOMIZATION = "kustomization.yaml"
_TEAM_PREFIX = "team-"

Entries = list[tuple[str, Resource]]


def unit_of(resource: Resource) -> str:
    """A team's objects are one unit wherever they live; platform objects one per cluster."""
    c = resource.coords
    return team_unit(c.team) if c.team is not None else cluster_unit(c.cluster)


def cluster_unit(cluster: str) -> str:
    return f"cluster-{cluster}"


def team_unit(team: str) -> str:
    return f"{_TEAM_PREFIX}{team}"


def team_of_unit(unit: str) -> str | None:
    return unit.removeprefix(_TEAM_PREFIX) if unit.startswith(_TEAM_PREFIX) else None


def to_yaml(body: dict[str, Any]) -> bytes:
    """Deterministic YAML: sorted keys, block style, one trailing newline (see emit).
    Not memoised: writing an object costs about what hashing its content would."""
    return emit.dump(body).encode("utf-8")


def units(bundle: Bundle) -> dict[str, Entries]:
    """Group the Bundle into units of (path, resource), sorted by path."""
    grouped: dict[str, Entries] = defaultdict(list)
    seen: dict[str, Resource] = {}
    for resource in bundle:
        path = path_for(resource)
        if path in seen:
            raise Conflict(f"{resource.ref} and {seen[path].ref} both render to {path}")
        seen[path] = resource
        grouped[unit_of(resource)].append((path, resource))
    return {unit: sorted(entries, key=lambda e: e[0]) for unit, entries in sorted(grouped.items())}


def unit_state(entries: Entries, fp: str | None = None, inputs: str = "") -> UnitState:
    """Serialise a unit's objects (the expensive step apply skips for unchanged units)."""
    files = {path: to_yaml(resource.body) for path, resource in entries}
    names = {path: (r.kind, f"{r.namespace}/{r.name}" if r.namespace else r.name)
             for path, r in entries}
    fp = fp if fp is not None else ownership.fingerprint(entries)
    return UnitState.of(fp, files, names, inputs)


def layout_state(spec: PlatformSpec, paths: Iterable[str]) -> UnitState:
    """README and the kustomizations for a set of object paths. The code fingerprint is
    recorded as the unit's inputs: kustomizations depend only on the paths and the code."""
    files = {path: kustomization(children) for path, children in _kustomized(paths).items()}
    files[README] = readme(spec)
    return UnitState.of(ownership.FORMAT_VERSION, files, inputs=fingerprint.unit_fingerprint())


def current(record: UnitState) -> bool:
    """Was this layout record written by the running goldenpath?"""
    return record.fingerprint == ownership.FORMAT_VERSION \
        and record.inputs == fingerprint.unit_fingerprint()


def with_readme(spec: PlatformSpec, record: UnitState) -> UnitState:
    """The layout of a tree whose object paths did not change: the kustomizations as
    recorded, the README (which names the platform and its clusters) rendered again;
    ``record`` itself when the README is what it records (then nothing is written)."""
    text = readme(spec)
    blob = ownership.blob_id(text)
    if record.blobs.get(README) == blob:
        return record
    blobs = {**record.blobs, README: blob}
    return UnitState(record.fingerprint, blobs, {README: text}, inputs=record.inputs)


def _kustomized(paths: Iterable[str]) -> dict[str, list[str]]:
    """kustomization path -> its resources. Directories under clusters/<cluster> chain up
    to the cluster directory, which the root Application syncs."""
    children: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        if specfiles.is_spec_path(path):
            continue  # specs are no manifests: nothing applies them
        directory, name = posixpath.split(path)
        children[directory].add(name)
        parts = directory.split("/")
        while parts[0] == "clusters" and len(parts) > 2:
            children["/".join(parts[:-1])].add(parts[-1])
            parts = parts[:-1]
    return {f"{d}/{KUSTOMIZATION}": sorted(names) for d, names in sorted(children.items())}


def kustomization(resources: list[str]) -> bytes:
    lines = ["# Generated by goldenpath; lists only goldenpath's files. Do not edit.\n",
             "apiVersion: kustomize.config.k8s.io/v1beta1\n", "kind: Kustomization\n",
             "resources:\n", *(f"- {name}\n" for name in resources)]
    return "".join(lines).encode()


def unit_inputs(spec: PlatformSpec, teams: Iterable[str] | None = None) -> dict[str, str]:
    """Unit -> what is recorded as its inputs in its ownership manifest: a team's input
    digest (every team's, or the teams ``teams``'); for a cluster's platform objects
    (always rendered), the code fingerprint, so a new goldenpath refreshes their
    fingerprints along with the teams' digests."""
    inputs = {cluster_unit(name): fingerprint.unit_fingerprint() for name in spec.clusters}
    inputs.update({team_unit(team): d for team, d in digest.team_digests(spec, teams).items()})
    return inputs


@dataclass(frozen=True)
class TreePlan:
    """What a whole tree is made of before any object is serialised: every unit's
    entries (None for a unit that has only a spec file), inputs and spec files. Units
    can be serialised in any order, or in several processes (see
    goldenpath.services.treewriter); the layout unit comes last, from every path the
    others claimed."""

    spec: PlatformSpec
    units: dict[str, Entries | None]
    inputs: dict[str, str]
    specs: SpecFiles

    @classmethod
    def of(cls, spec: PlatformSpec, bundle: Bundle, specs: SpecFiles | None = None
           ) -> TreePlan:
        """``specs`` are the spec files committed with the objects (default: the files
        ``spec`` was loaded from)."""
        specs = specfiles.read(spec) if specs is None else specs
        grouped: dict[str, Entries | None] = dict(units(bundle))
        grouped.update({unit: None for unit in specs.keys() - grouped.keys()})
        return cls(spec, grouped, unit_inputs(spec), specs)

    def state(self, unit: str) -> UnitState:
        """Serialise ``unit``'s objects, with its spec file."""
        entries = self.units[unit]
        rendered = {unit: unit_state(entries, inputs=self.inputs.get(unit, ""))} \
            if entries else {}
        files = {unit: self.specs[unit]} if unit in self.specs else {}
        return specfiles.with_specs(rendered, files)[unit]

    def layout(self, claims: dict[str, str]) -> UnitState:
        """The layout unit, claimed in ``claims`` (path -> unit) after every other unit."""
        state = layout_state(self.spec, list(claims))
        check_paths(claims, LAYOUT_UNIT, state.blobs)
        return state


def unit_files(unit: str, state: UnitState) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of a unit's files: its objects and spec file, then its manifest."""
    yield from state.contents.items()
    yield ownership.manifest_path(unit), ownership.format_manifest(unit, state)


def iter_repository_files(spec: PlatformSpec, bundle: Bundle, specs: SpecFiles | None = None
                          ) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every file goldenpath owns, one unit at a time: only one unit's
    bytes are alive at once, which keeps writing a 1,000-team tree within memory bounds.
    ``specs`` are the spec files committed with the objects (default: the files ``spec``
    was loaded from)."""
    plan = TreePlan.of(spec, bundle, specs)
    claims: dict[str, str] = {}
    for unit in plan.units:
        state = plan.state(unit)
        check_paths(claims, unit, state.blobs)
        yield from unit_files(unit, state)
    yield from unit_files(LAYOUT_UNIT, plan.layout(claims))


def check_paths(claims: dict[str, str], unit: str, paths: Iterable[str]) -> None:
    """Record ``unit``'s paths in ``claims`` (path -> unit); refuse a path another unit
    (a team, a cluster's platform objects, the layout's own files) already has."""
    for path in paths:
        owner = claims.setdefault(path, unit)
        if owner != unit:
            raise shared_path(path, owner, unit)


def shared_path(path: str, owner: str, unit: str) -> Conflict:
    return Conflict(f"{path} is written by both {owner} and {unit}; two units may never "
                    "share a file, nothing was written")


def repository_files(spec: PlatformSpec, bundle: Bundle, specs: SpecFiles | None = None
                     ) -> dict[str, bytes]:
    """Path -> bytes of every file goldenpath owns: what ``render --out`` writes and what
    ``apply`` commits to an empty repository."""
    return dict(sorted(iter_repository_files(spec, bundle, specs)))


def readme(spec: PlatformSpec) -> bytes:
    clusters = "\n".join(
        f"- `{c.name}` ({', '.join(c.environments)}): "
        f"`kubectl apply -k clusters/{c.name}` once, then Argo CD syncs the rest"
        for c in spec.platform.spec.clusters
    )
    return _README.format(platform=spec.name, clusters=clusters,
                          argocd=spec.platform.spec.argocd.namespace).encode()


_README = """\
# {platform}: platform control repository

Generated by goldenpath from the platform specs; every change comes from `goldenpath apply`.
Edits to goldenpath's files are reported as drift by `goldenpath plan` and overwritten by
the next apply; files goldenpath does not own (see `.goldenpath/owned/`) are never touched.

## Clusters

Argo CD runs on each cluster (namespace `{argocd}`) and manages only that cluster.

{clusters}

## Layout

- `clusters/<cluster>/bootstrap.yaml`: the root Application; syncs `clusters/<cluster>/`
  (app of apps)
- `clusters/<cluster>/projects/`: AppProject `platform` (admins only), one per team
- `clusters/<cluster>/applications/`: per team and environment the tenancy Application;
  per team the Application of its service Applications
- `clusters/<cluster>/platform/`: platform-owned objects of the cluster
- `tenants/<team>/<env>/`: namespace, quota, limit range, network policies, RBAC,
  service accounts, observability
- `tenants/<team>/_apps/application-<team>.<service>.<env>.yaml`: Application syncing
  `deploy/overlays/<env>` of the service repository
- `platform/platform.yaml`, `platform/teams/<team>.yaml`: the specs this tree was
  rendered from, committed with it (the `Spec-Digest` trailer of each commit names them)
- `.goldenpath/owned/`: which files goldenpath owns, with their git blob ids

Every object is in a file `<kind>-<name>.yaml`; every directory of manifests has a
`kustomization.yaml` listing goldenpath's files.

## Argo CD RBAC this repository relies on

The AppProjects here give each team's `owners`, `members` and `viewers` roles on that
team's applications only, and the `platform` project's `admin` role to the platform's
admins. Argo CD matches a role's groups against the token's `sub` and the claims listed in
`scopes`. Set `argocd-rbac-cm` (namespace `{argocd}`) so that:

- `policy.default` grants nothing to tenants (leave it empty): it applies to every user,
  so `role:readonly` would let every tenant read every team's applications;
- `scopes` includes the claim that carries the `user:` names of the specs, for example
  `[groups, email]`; with the default `[groups]`, `user:` subjects get nothing;
- `policy.csv` grants tenants nothing beyond their projects.

A `serviceaccount:` subject is a Kubernetes identity: it gets its Kubernetes RBAC in the
team's namespaces and nothing in Argo CD (no role names it).
"""
