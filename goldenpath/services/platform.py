"""Use cases over a platform directory: load, render, check, write. Shared by CLI and API."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from goldenpath import policy
from goldenpath.errors import Conflict
from goldenpath.gitops.layout import iter_repository_files
from goldenpath.gitops.ownership import OWNED_DIR
from goldenpath.policy.report import Report
from goldenpath.render import Bundle, render, render_teams
from goldenpath.services.servicerepos import service_repo_warnings
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec, load_platform

Progress = Callable[[int], None]


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


def load_and_check(platform_dir: Path | str) -> Checked:
    """Load the spec, render it and enforce every guardrail.

    Raises SpecError or PolicyViolation; on return the Bundle is safe to write.
    """
    spec = load_platform(platform_dir)
    bundle = render(spec)
    return Checked(spec=spec, bundle=bundle, report=policy.enforce(spec, bundle))


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


def validate_all(platform_dir: Path | str, settings: Settings | None) -> Validated:
    """``validate``, plus warnings about every service repository goldenpath can read
    (none read when ``settings`` is None). Warnings never make validation fail."""
    spec = load_platform(platform_dir)
    bundle = render(spec)
    report = policy.check(spec, bundle)
    if settings is None:
        return Validated(spec, report, [])
    apps = bundle.of_kind("Application")
    return Validated(spec, report, service_repo_warnings(spec, settings, apps))


def write_tree(checked: Checked, out: Path, progress: Progress | None = None) -> int:
    """Write the repository tree to ``out`` atomically; return the number of files.

    The tree is built in a sibling temporary directory and moved into place, so an
    interrupted run never leaves a half-written directory. ``out`` must be absent, empty,
    or a tree goldenpath wrote before, recognised by its ownership manifests (it is then
    replaced as a whole). Nothing else is added: the directory holds exactly the files
    ``apply`` commits.
    """
    if checked.teams is not None:
        raise ValueError("write_tree needs every team rendered (load_and_check)")
    out = out.resolve()
    if out.exists() and any(out.iterdir()) and not (out / OWNED_DIR).is_dir():
        raise Conflict(
            f"{out} exists and was not written by goldenpath; "
            "choose an empty or new directory for --out"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    made: set[Path] = set()
    count = 0
    try:
        # Files are written as each unit is serialised, never all held at once.
        for count, (path, content) in enumerate(
            iter_repository_files(checked.spec, checked.bundle), 1
        ):
            target = staging / path
            if target.parent not in made:  # one mkdir per directory, not per file
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            target.write_bytes(content)
            if progress is not None:
                progress(count)
        _swap(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count


def _swap(staging: Path, out: Path) -> None:
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)
