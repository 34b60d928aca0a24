"""The specs in the control repository: ``platform/platform.yaml`` and
``platform/teams/<team>.yaml`` beside ``clusters/`` and ``tenants/``, committed with the
objects rendered from them.

Each spec file belongs to a unit (see :mod:`goldenpath.gitops.layout`): a team's file to
that team's unit, with its objects, so a one-team change rewrites that team's files, its
spec file and its ownership manifest, nothing else; offboarding a team removes its spec
file with its objects; a hand edit of a spec file in the repository is drift of that unit
(the next apply that reads the repository's specs renders the team from it). The
platform's file is a unit of its own, ``platform`` (no team or cluster unit can have that
name). Spec files are stored byte for byte as written (comments and formatting kept),
whatever the file was called in the directory (``.yml`` becomes ``.yaml``).

A unit's spec file is not part of its input digest (comments do not change what is
rendered), so a unit kept as the base records it still gets its new spec bytes here
(:func:`with_specs`), and only the spec file and the manifest are written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from goldenpath.errors import SpecError, SpecIssue
from goldenpath.gitops.ownership import UnitState, blob_id
from goldenpath.gitops.repo import Workspace
from goldenpath.spec import Platform, PlatformSpec, Team
from goldenpath.spec.loader import team_digest
from goldenpath.spec.resolve import document_digest
from goldenpath.spec.yamlio import YamlProblem, parse_yaml_mapping

SPEC_DIR = "platform"
PLATFORM_FILE = f"{SPEC_DIR}/platform.yaml"
TEAMS_DIR = f"{SPEC_DIR}/teams"
#: The unit of the platform's spec file; team units are ``team-<name>``.
PLATFORM_UNIT = "platform"
#: unit -> (path in the repository, bytes)
SpecFiles = dict[str, tuple[str, bytes]]


def team_path(team: str) -> str:
    return f"{TEAMS_DIR}/{team}.yaml"


def is_spec_path(path: str) -> bool:
    return path.startswith(SPEC_DIR + "/")


def team_of_path(path: str) -> str | None:
    """The team whose spec file ``path`` is, else None."""
    prefix = TEAMS_DIR + "/"
    if path.startswith(prefix) and path.endswith(".yaml") and "/" not in path[len(prefix):]:
        return path[len(prefix):-len(".yaml")]
    return None


def read(spec: PlatformSpec) -> SpecFiles:
    """The bytes of the spec files ``spec`` was loaded from; none when it was not loaded
    from files (a spec built in memory). :func:`verify` the ones that will be written."""
    files: SpecFiles = {}
    platform = spec.sources.get("")
    if platform is not None:
        files[PLATFORM_UNIT] = (PLATFORM_FILE, Path(platform).read_bytes())
    for name in spec.team_names:
        source = spec.sources.get(name)
        if source is not None:
            files[f"team-{name}"] = (team_path(name), Path(source).read_bytes())
    return files


def verify(spec: PlatformSpec, files: SpecFiles, units: set[str]) -> None:
    """Refuse to commit spec bytes of ``units`` that are not what was loaded and checked
    (a file edited between loading and reading): their document digest must be the one
    the objects were rendered from. Costs a parse of the files written only, and none
    for a team file whose very bytes the loader parsed in this process (the worker's
    commit of a change the API's submission check loaded: ``loader.PARSED_TEAMS``)."""
    for unit in sorted(units & files.keys()):
        path, content = files[unit]
        name = "" if unit == PLATFORM_UNIT else unit.removeprefix("team-")
        digest = team_digest(name, content) if name else None
        if digest is None:
            digest = _digest(Platform if unit == PLATFORM_UNIT else Team, content)
        if digest != spec.digests.get(name):
            source = spec.sources.get(name, path)
            raise SpecError([SpecIssue(source, "", "changed while goldenpath was reading the "
                                                   "platform; run the command again")])


def _digest(model: type[Platform] | type[Team], content: bytes) -> str:
    """The document digest of a spec file, or "" when it is no valid document."""
    try:
        return document_digest(model.model_validate(parse_yaml_mapping(content)))
    except (YamlProblem, ValueError):
        return ""


def with_specs(states: dict[str, UnitState], files: Mapping[str, tuple[str, bytes]],
               kept: Mapping[str, UnitState] | None = None) -> dict[str, UnitState]:
    """``states`` with each unit's spec file as ``files`` has it. ``kept`` are base
    records known to hold their spec file as it is (see :func:`unchanged`): one that is
    also the unit's state stays that very object, so nothing of it is read or written. A
    unit without objects of its own (the platform's) is created."""
    kept = kept or {}
    out = dict(states)
    for unit, (path, content) in files.items():
        state, record = out.get(unit), kept.get(unit)
        if record is not None and (state is None or state is record):
            out[unit] = record
            continue
        blob = blob_id(content)
        if state is None:
            out[unit] = UnitState.of("", {path: content})
        elif state.blobs.get(path) != blob:
            blobs = {**state.blobs, path: blob}
            out[unit] = UnitState(state.fingerprint, blobs, {**state.contents, path: content},
                                  dict(state.names), state.inputs)
    return out


def unchanged(files: SpecFiles, records: Mapping[str, UnitState], current: Mapping[str, str],
              intact: Callable[[str], bool], unowned: Mapping[str, str]
              ) -> dict[str, UnitState]:
    """The base records whose spec file is in the tree (``current``: path -> blob of the
    spec files at the base commit) with the bytes of ``files``: intact units own their
    paths with the blobs recorded, so this needs no record's path map."""
    return {unit: records[unit] for unit, (path, content) in files.items()
            if unit in records and intact(unit) and path not in unowned
            and current.get(path) == _BLOB_IDS.blob_id(content)}


class BlobMemo:
    """Blob ids of the spec files seen: a plan at 1,000 teams asks about every team's
    file, the same bytes objects each time (the snapshot's, whose hash Python keeps), and
    hashing them all with SHA-1 again was most of what :func:`unchanged` cost. Holds at
    most ``limit`` bytes of files; past it, forgets everything and starts again."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ids: dict[bytes, str] = {}
        self.held = 0

    def blob_id(self, content: bytes) -> str:
        found = self.ids.get(content)
        if found is None:
            found = blob_id(content)
            if self.held + len(content) > self.limit:
                self.ids.clear()
                self.held = 0
            self.ids[content] = found
            self.held += len(content)
        return found


_BLOB_IDS = BlobMemo(64 << 20)


def checkout(ws: Workspace, blobs: Mapping[str, str], into: Path) -> Path:
    """Write the spec files of a commit (``blobs``: path -> blob of its files under
    ``platform/``) into ``into``; return the platform directory. Only ``platform.yaml``
    and ``teams/<name>.yaml`` are written: the loader reads nothing else."""
    wanted = {p: b for p, b in blobs.items() if p == PLATFORM_FILE or team_of_path(p)}
    contents = ws.read_many(sorted(set(wanted.values())))
    root = into / SPEC_DIR
    (root / "teams").mkdir(parents=True, exist_ok=True)
    for path, blob in wanted.items():
        (into / path).write_bytes(contents[blob])
    return root
