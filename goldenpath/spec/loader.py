"""Read ``platform.yaml`` and ``teams/*.yaml`` into a validated :class:`PlatformSpec`.

Every problem in every file is collected before anything is reported, so a platform
engineer fixes a whole batch at once; each is printed as
``file: field.path: value: what is wrong``.

With a cache directory, a file whose bytes were loaded before by the same code is not
parsed again (:mod:`goldenpath.spec.cache`); the cross-file checks always run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from goldenpath.errors import SpecError, SpecIssue
from goldenpath.spec import crossref
from goldenpath.spec.cache import ModelCache
from goldenpath.spec.models import Platform, Team
from goldenpath.spec.resolve import PlatformSpec, canonical_json
from goldenpath.spec.yamlio import YamlProblem, parse_yaml_mapping, read_spec_bytes

PLATFORM_FILE = "platform.yaml"
TEAMS_DIR = "teams"

_M = TypeVar("_M", bound=BaseModel)

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (check the spelling against the spec reference)",
}


def load_platform(directory: Path | str, cache_dir: Path | None = None) -> PlatformSpec:
    """Load and validate a platform directory; raise :class:`SpecError` with every issue.

    ``cache_dir`` keeps the validated model of each file between runs (see above).
    """
    cache = ModelCache.open(cache_dir)
    spec = _load(Path(directory), cache)
    cache.save()
    return spec


def _load(root: Path, cache: ModelCache) -> PlatformSpec:
    issues: list[SpecIssue] = []
    platform_file = root / PLATFORM_FILE
    if not platform_file.is_file():
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
    documents: dict[str, str] = {}
    loaded = _load_model(platform_file, Platform, issues, cache)
    teams, sources = _load_teams(root / TEAMS_DIR, issues, cache, documents)
    if loaded is None:
        raise SpecError(issues)
    platform, documents[""] = loaded
    sources["platform"] = str(platform_file)
    issues.extend(crossref.platform_issues(platform, str(platform_file)))
    spec = PlatformSpec(platform=platform, teams=tuple(sorted(teams, key=lambda t: t.name)),
                        sources=sources, documents=documents)
    for team in spec.teams:
        issues.extend(crossref.team_issues(spec, team, sources[team.name]))
    issues.extend(crossref.global_issues(spec))
    if issues:
        raise SpecError(issues)
    return spec


def parse_team(data: dict[str, Any], file: str) -> Team:
    """Validate one team document (as the API receives it); raise SpecError if invalid."""
    issues: list[SpecIssue] = []
    team = _validate(data, Team, file, issues)
    if team is None:
        raise SpecError(issues)
    return team


def _load_teams(directory: Path, issues: list[SpecIssue], cache: ModelCache,
                documents: dict[str, str]) -> tuple[list[Team], dict[str, str]]:
    """Teams and their files; ``documents`` gets each team's canonical JSON."""
    teams: list[Team] = []
    sources: dict[str, str] = {}
    files = (
        sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]) if directory.is_dir() else []
    )
    for path in files:
        loaded = _load_model(path, Team, issues, cache)
        if loaded is None:
            continue
        team, canonical = loaded
        if team.name != path.stem:
            issues.append(
                SpecIssue(
                    str(path),
                    "metadata.name",
                    f"must equal the file name {path.stem!r}",
                    value=team.name,
                    has_value=True,
                )
            )
            continue
        if team.name in sources:
            issues.append(
                SpecIssue(
                    str(path),
                    "metadata.name",
                    f"team is defined twice (also in {sources[team.name]})",
                    value=team.name,
                    has_value=True,
                )
            )
            continue
        sources[team.name] = str(path)
        documents[team.name] = canonical
        teams.append(team)
    return teams, sources


def _load_model(path: Path, model: type[_M], issues: list[SpecIssue],
                cache: ModelCache) -> tuple[_M, str] | None:
    """The file's validated model and its canonical JSON, or None (issues recorded)."""
    try:
        raw = read_spec_bytes(path)
        key = cache.key(model, raw)
        hit = cache.get(key)
        if hit is not None and isinstance(hit[0], model):
            return hit[0], hit[1]
        data = parse_yaml_mapping(raw)
    except (YamlProblem, OSError) as err:
        issues.append(SpecIssue(str(path), "", str(err)))
        return None
    found = _validate(data, model, str(path), issues)
    if found is None:
        return None
    canonical = canonical_json(found)
    cache.put(key, found, canonical)
    return found, canonical


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
