"""Use cases over a platform directory: load, render, check, write. Shared by CLI and API."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from goldenpath import policy
from goldenpath.errors import Conflict, FileSystemError
from goldenpath.gcpause import cyclic_gc_paused
from goldenpath.gitops.layout import TreePlan
from goldenpath.gitops.ownership import OWNED_DIR, parse_manifest, unit_of_manifest
from goldenpath.policy.report import Report
from goldenpath.policy.verdicts import Verdicts
from goldenpath.render import Bundle, Resource, digest, render, render_teams
from goldenpath.services import treewriter
from goldenpath.services.servicerepos import service_repo_warnings
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec, load_platform

Progress = treewriter.Progress
#: foreign entries a refusal names before "and N more"
_SHOWN = 5


@dataclass(frozen=True)
class Checked:
    """A spec that loaded, its Bundle, and the guardrail report that passed on it.

    ``teams`` names the teams whose objects the Bundle holds (with the cluster-level
    objects); ``None`` means every team: the whole platform was rendered.
    """

    spec: PlatformSpec
    bundle: Bundle
    report: Report
    teams: frozenset[str] | None = None

    def rendered(self, team: str) -> bool:
        return self.teams is None or team in self.teams

    def with_passed(self, found: Mapping[str, Iterable[Resource]]) -> Checked:
        """This, with the objects of the teams ``found`` (team -> its objects, which passed
        every per-team guardrail under the input digest the team has in ``spec``: see
        :mod:`goldenpath.services.passedteams`) as if rendered and checked here."""
        if not found:
            return self
        bundle = Bundle.of([*self.bundle, *(r for objects in found.values() for r in objects)])
        teams = None if self.teams is None else self.teams | found.keys()
        return replace(self, bundle=bundle, teams=teams)


def state_cache(settings: Settings | None) -> Path | None:
    """The state directory's spec cache (where the verdicts live too) when an apply made
    one: a command never creates state before it succeeds."""
    where = settings.spec_cache_dir if settings is not None else None
    return where if where is not None and where.is_dir() else None


@cyclic_gc_paused()
def load_and_check(platform_dir: Path | str, settings: Settings | None = None) -> Checked:
    """Load the spec, render it and enforce every guardrail.

    With ``settings`` and the state an apply left, the teams that passed under their
    current input digest (:mod:`goldenpath.policy.verdicts`) are rendered but not checked
    again: their objects are those that passed, rendered from the same inputs by the same
    code. The cluster-level objects and the other teams are checked, the global
    guardrails over every team, and a pass records the teams checked.

    Raises SpecError or PolicyViolation; on return the Bundle is safe to write.
    """
    cache = state_cache(settings)
    spec = load_platform(platform_dir, cache)
    bundle = render(spec)
    verdicts = Verdicts.open(cache)
    inputs = digest.team_digests(spec) if cache is not None else {}
    reused = verdicts.passed(inputs)
    if not reused:
        report = policy.enforce(spec, bundle)
    else:
        stale = frozenset(spec.team_names) - reused
        checked = Bundle.of(r for r in bundle if r.coords.team is None or r.coords.team in stale)
        report = policy.enforce_teams(spec, stale, checked)
    verdicts.save(inputs, (team for team in inputs if team not in reused))
    return Checked(spec=spec, bundle=bundle, report=report)


def check_teams(spec: PlatformSpec, names: Iterable[str]) -> Checked:
    """Render and enforce the guardrails for the cluster-level objects and the teams
    ``names`` only (the global guardrails still cover every team; see ``policy``)."""
    teams = frozenset(names)
    bundle = render_teams(spec, teams)
    return Checked(spec, bundle, policy.enforce_teams(spec, teams, bundle), teams)


def validate(platform_dir: Path | str) -> tuple[PlatformSpec, Report]:
    """Load and render, then run every guardrail without raising on violations."""
    checked = validate_all(platform_dir, None)
    return checked.spec, checked.report


@dataclass(frozen=True)
class Validated:
    spec: PlatformSpec
    report: Report
    #: where service repositories lag the spec (see goldenpath.services.servicerepos)
    warnings: list[str]
    #: teams not checked again: they passed under the input digest they have now
    reused: frozenset[str] = frozenset()


@cyclic_gc_paused()
def validate_all(platform_dir: Path | str, settings: Settings | None, *,
                 full: bool = False) -> Validated:
    """``validate``, plus warnings about the service repositories of the teams checked
    that goldenpath can read (none read when ``settings`` is None). Warnings never make
    validation fail.

    With ``settings`` and the state an apply left, only the teams whose input digest
    changed since they last passed are rendered and checked (:mod:`goldenpath.policy.verdicts`),
    with the cluster-level objects and the global guardrails over every team, as apply
    checks them; ``full`` checks every team. A run that passes records its teams.

    The cyclic collector is paused, as for ``load_and_check``: loading 1,000 teams makes
    no cycles, and rescanning their entries cost ~8% of a one-team validate."""
    cache = state_cache(settings)
    spec = load_platform(platform_dir, cache)
    verdicts = Verdicts.open(cache)
    inputs = digest.team_digests(spec) if cache is not None else {}
    reused = frozenset() if full else verdicts.passed(inputs)
    if reused:
        stale = [team for team in spec.team_names if team not in reused]
        bundle = render_teams(spec, stale)
        report = policy.check_teams(spec, stale, bundle)
    else:
        bundle = render(spec)
        report = policy.check(spec, bundle)
    if report.passed:
        verdicts.save(inputs, (team for team in inputs if team not in reused))
    if settings is None:
        return Validated(spec, report, [], reused)
    apps = bundle.of_kind("Application")
    return Validated(spec, report, service_repo_warnings(spec, settings, apps), reused)


def writers_for(checked: Checked, requested: int | None = None) -> int:
    """The processes ``write_tree`` would use for ``checked`` (see treewriter)."""
    return treewriter.workers_for(len(checked.bundle), requested)


@cyclic_gc_paused()
def write_tree(checked: Checked, out: Path, progress: Progress | None = None,
               workers: int | None = None) -> int:
    """Write the repository tree to ``out`` atomically; return the number of files.

    The files are serialised and written by ``workers`` processes (default: one per
    core for a large tree; see goldenpath.services.treewriter); the bytes are the same
    whatever their number.

    The tree is built in a sibling temporary directory and moved into place, so an
    interrupted run never leaves a half-written directory. ``out`` must be absent, empty,
    or hold only files goldenpath wrote there, as its ownership manifests record (it is
    then replaced as a whole). Anything else in it (a clone's ``.git``, a file of your
    own, a manifest goldenpath cannot read) refuses the write before anything changes:
    goldenpath never deletes what it does not own. The directory then holds exactly the
    files ``apply`` commits.
    """
    if checked.teams is not None:
        raise ValueError("write_tree needs every team rendered (load_and_check)")
    out = out.resolve()
    try:
        _check_out(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as error:
        raise _unwritable(out, error) from error
    try:
        plan = TreePlan.of(checked.spec, checked.bundle)
        count = treewriter.write_files(
            plan, staging, treewriter.workers_for(len(checked.bundle), workers), progress)
        _swap(staging, out)
    except OSError as error:
        raise _unwritable(out, error) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count


def _check_out(out: Path) -> None:
    """Refuse an ``out`` that is not a directory, or holds anything goldenpath did not
    write there (listing the first few)."""
    if out.exists() and not out.is_dir():
        raise FileSystemError(f"{out} is a file, not a directory; choose a directory for --out")
    if not out.exists():
        return
    foreign = foreign_entries(out)
    if foreign:
        shown = ", ".join(foreign[:_SHOWN])
        more = f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else ""
        raise Conflict(
            f"{out} holds files goldenpath did not write ({shown}{more}); it replaces only "
            "a directory it wrote, so nothing was changed: choose an empty or new directory "
            "for --out (to compare with a clone of the control repository, use "
            "plan --repo)"
        )


def foreign_entries(root: Path) -> list[str]:
    """The entries under ``root`` (relative, sorted; a directory once, with a trailing
    ``/``) that no ownership manifest under ``root`` records: what replacing ``root``
    would destroy. Symbolic links are entries, never followed."""
    owned = _owned_paths(root)
    parents = {parent for path in owned for parent in _parents(path)}
    foreign: list[str] = []
    for directory, dirs, files in os.walk(root):
        rel = Path(directory).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        links = {name for name in dirs if os.path.islink(os.path.join(directory, name))}
        for name in sorted(set(dirs) - links):
            if prefix + name not in parents:
                foreign.append(f"{prefix}{name}/")  # not descended into: listed once
        dirs[:] = [name for name in dirs if name not in links and prefix + name in parents]
        foreign.extend(prefix + name for name in sorted([*files, *links])
                       if prefix + name not in owned)
    return sorted(foreign)


def _owned_paths(root: Path) -> set[str]:
    """Every path the manifests under ``root`` record, the manifests included; a
    manifest that is no regular file or cannot be read records nothing."""
    owned: set[str] = set()
    manifests = root / OWNED_DIR
    if manifests.is_dir() and not manifests.is_symlink():
        for manifest in manifests.iterdir():
            path = f"{OWNED_DIR}/{manifest.name}"
            if unit_of_manifest(path) is None or manifest.is_symlink() \
                    or not manifest.is_file():
                continue
            owned.add(path)
            owned.update(parse_manifest(manifest.read_bytes()).blobs)
    return owned


def _parents(path: str) -> Iterable[str]:
    parts = path.split("/")[:-1]
    return ("/".join(parts[:i]) for i in range(1, len(parts) + 1))


def _unwritable(out: Path, error: OSError) -> FileSystemError:
    return FileSystemError(f"cannot write the tree to {out}: {error.strerror or error}; "
                           "choose a directory you can write for --out")


def _swap(staging: Path, out: Path) -> None:
    """Move ``staging`` to ``out``; an old ``out`` goes to a fresh temporary directory of
    its own first (never to a fixed name, which could be someone's), and comes back if
    the move fails."""
    if not out.exists():
        os.replace(staging, out)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    try:
        old = trash / "tree"
        os.replace(out, old)
        try:
            os.replace(staging, out)
        except OSError:
            os.replace(old, out)
            raise
    finally:
        shutil.rmtree(trash, ignore_errors=True)
