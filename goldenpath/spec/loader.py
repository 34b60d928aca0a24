"""Read ``platform.yaml`` and ``teams/*.yaml`` into a validated :class:`PlatformSpec`.

Every problem in every file is collected before anything is reported, so a platform
engineer fixes a whole batch at once; each is printed as
``file: field.path: value: what is wrong``.

With a cache directory, a file whose bytes were loaded before by the same code is not
parsed again, its model is built only when asked for, and a team that passed the
cross-file checks under the same platform is not checked again, except against the set
of teams, which can change without its file (:mod:`goldenpath.spec.cache`). So loading
a platform where one file changed parses and checks that file, and reads the others'
small cached facts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from goldenpath.errors import SpecError, SpecIssue
from goldenpath.memo import ContentMemo
from goldenpath.spec import crossref
from goldenpath.spec.cache import Known, SpecCache
from goldenpath.spec.derive import derived
from goldenpath.spec.models import Platform, Team
from goldenpath.spec.resolve import PlatformSpec, document_digest
from goldenpath.spec.teams import TeamEntry, TeamFacts
from goldenpath.spec.yamlio import (
    MAX_SPEC_BYTES,
    SpecFile,
    YamlProblem,
    inside,
    parse_yaml_mapping,
    read_spec_bytes,
    spec_file,
)

PLATFORM_FILE = "platform.yaml"
TEAMS_DIR = "teams"

_M = TypeVar("_M", bound=BaseModel)

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (check the spelling against the spec reference)",
}


def load_platform(directory: Path | str, cache_dir: Path | None = None, *,
                  cache: SpecCache | None = None) -> PlatformSpec:
    """Load and validate a platform directory; raise :class:`SpecError` with every issue.

    ``cache_dir`` keeps the validated model of each file between runs (see above);
    ``cache``, one the caller opened and saves itself (see ``SpecCache.deferred``).
    """
    if cache is not None:
        return _load(Path(directory), cache)
    opened = SpecCache.open(cache_dir)
    spec = _load(Path(directory), opened)
    opened.save()
    return spec


def _load(root: Path, cache: SpecCache) -> PlatformSpec:
    issues: list[SpecIssue] = []
    platform_file = root / PLATFORM_FILE
    # Every file read must lie inside the real platform directory (symbolic links may
    # not lead out of it): a tenant's link to /etc/passwd is refused, not quoted.
    real_root = os.path.realpath(root)
    if not os.path.lexists(platform_file):
        raise SpecError(
            [
                SpecIssue(
                    str(platform_file),
                    "",
                    "platform file not found; "
                    "pass --platform DIR pointing at the platform definition",
                )
            ]
        )
    loaded = _load_file(str(platform_file), (real_root, PLATFORM_FILE, real_root), Platform,
                        issues, cache)
    teams, sources, unloaded = _load_teams(root / TEAMS_DIR, real_root, issues, cache)
    if loaded is None:
        raise SpecError(issues)
    platform = loaded.model
    assert isinstance(platform, Platform)  # _load_file returns the model class asked for
    sources[""] = str(platform_file)  # "" like the digests: a team may be called platform
    issues.extend(crossref.platform_issues(platform, str(platform_file)))
    spec = PlatformSpec(platform, tuple(entry for entry, _ in teams), sources,
                        loaded.digest)
    for entry, key in teams:
        issues.extend(_team_issues(spec, entry, cache.check_key(key, loaded.digest), cache,
                                   unloaded))
    issues.extend(crossref.global_issues(spec))
    if not issues and not spec.entries:
        # An empty platform is a mistake (a wrong --platform, a lost directory), never a
        # plan: applied, it would offboard every tenant. (Told once the rest is valid.)
        issues.append(SpecIssue(str(root / TEAMS_DIR), "", "no team files (teams/<team>.yaml); "
                                "a platform needs at least one team"))
    if issues:
        raise SpecError(issues)
    return spec


def _team_issues(spec: PlatformSpec, entry: TeamEntry, key: str, cache: SpecCache,
                 unloaded: frozenset[str]) -> list[SpecIssue]:
    """The cross-file issues of one team. A file that passed them before under the same
    platform (``key``) is not checked again (only which teams exist can have changed,
    checked here from the facts); its resolved quotas come from that check."""
    file = spec.sources[entry.name]
    known = cache.get_quotas(key)
    if known is None:
        found = list(crossref.team_issues(spec, entry.model, file))
        if not found:
            cache.put_quotas(key, {env: spec.quota_of(entry.name, env)
                                   for env in entry.facts.environments})
    else:
        entry.known_quotas(known)
        found = []
    if entry.name in spec.dangling:  # names a team that is not there (one walk for all)
        found.extend(crossref.peer_issues(spec, entry.facts, file, unloaded))
    return found


def with_team_files(spec: PlatformSpec,
                    files: Mapping[str, tuple[str, bytes | None]]) -> PlatformSpec:
    """``spec`` with some team files replaced, added or removed (``files``: team name ->
    (the file as messages name it, its bytes; None: removed)), checked as
    :func:`load_platform` would check a directory holding them: each file on its own
    (bounded, strict YAML, the model, named as its file), its cross-file rules against the
    platform, and the rules across teams (names, hosts, ``allowFromTeams``) over every
    team. The other teams' entries are ``spec``'s own, shared, never changed.

    What a team's cross-file rules read is the platform and the team itself, so the
    teams not in ``files``, which passed them when ``spec`` was loaded, pass them still.
    The rules across teams read indexes derived from ``spec``'s
    (:mod:`goldenpath.spec.derive`): a team whose ``allowFromTeams`` names a team that is
    gone, and the teams in a clash of namespaces or hosts, are reported as a load of the
    whole platform would report them, in the same order, without walking every team."""
    issues: list[SpecIssue] = []
    sources = dict(spec.sources)
    for name in files:
        sources.pop(name, None)
    new: dict[str, TeamEntry | None] = {}
    for name, (file, raw) in sorted(files.items()):
        entry = _entry_of(name, file, raw, issues) if raw is not None else None
        if entry is not None:
            sources[name] = file
        new[name] = entry
    if issues:
        raise SpecError(issues)
    changed = derived(spec, new, sources)
    for entry in (e for e in new.values() if e is not None):
        issues.extend(crossref.team_issues(changed, entry.model, sources[entry.name]))
    # only the teams naming a team that is not there have peer issues (one entry a name
    # when ordered, as a loaded platform's are)
    peers = [changed.facts(name) for name in sorted(changed.dangling)] if changed.ordered \
        else [entry.facts for entry in changed.entries]
    for facts in peers:
        issues.extend(crossref.peer_issues(changed, facts, sources[facts.name]))
    issues.extend(crossref.global_issues(changed))
    if not issues and not changed.entries:
        issues.append(SpecIssue(min(file for file, _ in files.values()), "",
                                "is the last team file; a platform needs at least one team"))
    if issues:
        raise SpecError(issues)
    return changed


class _Valid(NamedTuple):
    """What a team file that passed makes: its model, facts and digest (all immutable,
    and a function of the file's bytes and the team's name alone), and about how many
    bytes of memory they hold."""

    team: Team
    facts: TeamFacts
    digest: str
    size: int


class _Invalid(Exception):
    """A team file with problems (raised out of the memo, so nothing is kept)."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        super().__init__(issues)
        self.issues = issues


#: team files that passed, by (team name, exact bytes) (see goldenpath.memo: a key is
#: the whole content, so an entry answers only for the very same file). The API's
#: submission check and the worker's commit of that request both load the file the one
#: round-trip edit made (:func:`goldenpath.scaffold.teamfile.replaced`), so the commit
#: takes the model the check built (a fifth of a chained commit's CPU at 1,000 teams).
#: Failures are never kept: a file with problems is reported each time. A model takes
#: about ten times its file's bytes; 16 MiB keeps several batches of changes.
PARSED_TEAMS: ContentMemo[_Valid] = ContentMemo(16 << 20, lambda valid: valid.size)


def _entry_of(name: str, file: str, raw: bytes, issues: list[SpecIssue]) -> TeamEntry | None:
    """The entry of team ``name``'s file ``raw``, or None (issues recorded). A fresh
    entry each time (what it resolves later belongs to its platform) of the model
    :data:`PARSED_TEAMS` holds for these bytes, or of one built now."""
    if len(raw) > MAX_SPEC_BYTES:
        issues.append(SpecIssue(file, "", f"file is {len(raw)} bytes; spec files are "
                                          f"limited to {MAX_SPEC_BYTES}"))
        return None
    try:
        valid = PARSED_TEAMS.get("team", (name, raw), lambda _: _valid(name, file, raw))
    except _Invalid as invalid:
        issues.extend(invalid.issues)
        return None
    return TeamEntry(valid.facts, valid.digest, model=valid.team)


def team_digest(name: str, raw: bytes) -> str | None:
    """The document digest of team ``name``'s file ``raw`` when it is a valid file of
    that team (from :data:`PARSED_TEAMS`, kept there when computed now), else None."""
    if len(raw) > MAX_SPEC_BYTES:
        return None
    try:
        return PARSED_TEAMS.get("team", (name, raw), lambda _: _valid(name, "", raw)).digest
    except _Invalid:
        return None


def _valid(name: str, file: str, raw: bytes) -> _Valid:
    """Team ``name``'s file ``raw`` parsed and validated; _Invalid with its problems."""
    issues: list[SpecIssue] = []
    try:
        data = parse_yaml_mapping(raw)
    except YamlProblem as err:
        raise _Invalid([SpecIssue(file, "", str(err))]) from None
    team = _validate(data, Team, file, issues)
    if team is None:
        raise _Invalid(issues)
    if team.name != name:
        raise _Invalid([SpecIssue(file, "metadata.name", f"must equal the file name {name!r}",
                                  value=team.name, has_value=True)])
    return _Valid(team, TeamFacts.of(team), document_digest(team), 10 * len(raw))


def parse_team(data: dict[str, Any], file: str) -> Team:
    """Validate one team document (as the API receives it); raise SpecError if invalid."""
    issues: list[SpecIssue] = []
    team = _validate(data, Team, file, issues)
    if team is None:
        raise SpecError(issues)
    return team


def _load_teams(directory: Path, real_root: str, issues: list[SpecIssue], cache: SpecCache
                ) -> tuple[list[tuple[TeamEntry, str]], dict[str, str], frozenset[str]]:
    """(entry, cache key) of each valid team file, sorted by name, their files, and the
    names of the team files that did not load (their issues are recorded)."""
    teams: list[tuple[TeamEntry, str]] = []
    sources: dict[str, str] = {}
    unloaded: set[str] = set()
    try:
        real_dir = inside(str(directory), real_root)
    except YamlProblem as err:
        issues.append(SpecIssue(str(directory), "", str(err)))
        return teams, sources, frozenset(unloaded)
    # Plain strings, not Paths: sorting and naming 1,000 Paths took longer than reading.
    prefix = os.path.join(directory, "")
    for file_name in sorted(n for n in _names(directory) if n.endswith((".yaml", ".yml"))):
        path = prefix + file_name
        stem = file_name.rpartition(".")[0]
        loaded = _load_file(path, (real_dir, file_name, real_root), Team, issues, cache)
        if loaded is None:
            unloaded.add(stem)
            continue
        assert loaded.facts is not None  # a Team file always has facts
        name = loaded.facts.name
        if name != stem:
            issues.append(
                SpecIssue(
                    path,
                    "metadata.name",
                    f"must equal the file name {stem!r}",
                    value=name,
                    has_value=True,
                )
            )
            continue
        if name in sources:
            issues.append(
                SpecIssue(
                    path,
                    "metadata.name",
                    f"team is defined twice (also in {sources[name]})",
                    value=name,
                    has_value=True,
                )
            )
            continue
        sources[name] = path
        teams.append((TeamEntry(loaded.facts, loaded.digest, load=loaded.load,
                                model=loaded.built), loaded.key))
    teams.sort(key=lambda pair: pair[0].name)
    return teams, sources, frozenset(unloaded - sources.keys())


def _names(directory: Path) -> list[str]:
    """The file names in ``directory`` (none when it does not exist)."""
    try:
        with os.scandir(directory) as found:
            return [entry.name for entry in found]
    except (FileNotFoundError, NotADirectoryError):
        return []


class _Loaded(NamedTuple):
    """A valid file: its cache key, document digest, team facts, and its model (``built``
    when it was just parsed, else built by ``load`` on demand)."""

    key: str
    digest: str
    facts: TeamFacts | None
    load: Callable[[], Any]
    built: Any = None

    @property
    def model(self) -> BaseModel:
        model: BaseModel = self.built if self.built is not None else self.load()
        return model


def _load_file(path: str, where: tuple[str, str, str], model: type[_M],
               issues: list[SpecIssue], cache: SpecCache) -> _Loaded | None:
    """The file's model and what is cached with it, or None (issues recorded).

    ``path`` is the file as shown; ``where`` is (real directory, name, real platform
    directory), which :func:`~goldenpath.spec.yamlio.spec_file` checks before reading."""
    try:
        file = spec_file(*where)
        known = _fits(cache.unchanged(path, file.stat), model)
        if known is None:
            raw = read_spec_bytes(file.real, file.stat)
            key = cache.key(model, raw)
            known = _fits(cache.get(key), model)
            if known is None:
                return _parse(path, raw, key, model, issues=issues, cache=cache)
            cache.seen(path, key)
    except (YamlProblem, OSError) as err:
        issues.append(SpecIssue(path, "", str(err)))
        return None
    return _Loaded(known.key, known.digest, known.facts,
                   _from_cache(cache, known.key, model, path, file))


def _fits(known: Known | None, model: type[BaseModel]) -> Known | None:
    """``known`` if it is a document of ``model`` (a team's has facts), else None."""
    return known if known is not None and (known.facts is not None) == (model is Team) else None


def _parse(path: str, raw: bytes, key: str, model: type[_M], *, issues: list[SpecIssue],
           cache: SpecCache) -> _Loaded | None:
    data = parse_yaml_mapping(raw)
    found = _validate(data, model, path, issues)
    if found is None:
        return None
    digest = document_digest(found)
    facts = TeamFacts.of(found) if isinstance(found, Team) else None
    cache.put(key, found, digest, facts)
    cache.seen(path, key)
    return _Loaded(key, digest, facts, lambda: found, found)


def _from_cache(cache: SpecCache, key: str, model: type[_M], path: str,
                file: SpecFile) -> Callable[[], _M]:
    """Build the cached model; should its file be unreadable after all, validate the
    spec file again, which must still hold the bytes the key was made of."""
    def load() -> _M:
        built = cache.model(key, model)
        if built is not None:
            return built
        try:
            raw = read_spec_bytes(file.real, file.stat)
        except (YamlProblem, OSError) as err:
            raise SpecError([SpecIssue(path, "", str(err))]) from None
        if cache.key(model, raw) != key:
            raise SpecError([SpecIssue(path, "", "changed while goldenpath was reading the "
                                                 "platform; run the command again")])
        return model.model_validate(parse_yaml_mapping(raw))
    return load


def _validate(
    data: dict[str, Any], model: type[_M], file: str, issues: list[SpecIssue]
) -> _M | None:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        issues.extend(_pydantic_issues(err.errors(include_url=False), file))
        return None


def _pydantic_issues(errors: Iterable[Any], file: str) -> Iterable[SpecIssue]:
    for error in errors:
        path = _dotted(error["loc"])
        message = _MESSAGES.get(error["type"], error["msg"])
        message = message.removeprefix("Value error, ")
        if error["type"] == "missing":
            yield SpecIssue(file, path, message)
        else:
            yield SpecIssue(file, path, message, value=error["input"], has_value=True)


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad mapping key, named by the path
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
