"""An upgrade rewrites only what it changes: a unit's input digest covers the code that
shapes the unit and decides its guardrails (``fingerprint.unit_fingerprint``), not the
whole package, so a release that changes the API or the store leaves the repository as it
is, and one that changes the dashboards rewrites the dashboards and nothing else of the
teams' files.

A release is simulated with a copy of the package whose source differs in one module
(what the fingerprints read), plus, for a change that renders differently, the same
change made to the running renderer."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from goldenpath.render.observability import dashboards
from goldenpath.services import gitops
from goldenpath.services import platform as platform_service
from goldenpath.services.platform import Checked
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec, fingerprint
from goldenpath.spec.fingerprint import UNIT_SCOPE, module_files, source_fingerprint
from tests.gitops.conftest import commits, git, teams

PACKAGE = Path(fingerprint.__file__).resolve().parents[1]
Make = Callable[..., Path]
Release = Callable[[str, str], None]
SettingsFor = Callable[[str], Settings]


@pytest.fixture
def copy_of_package(tmp_path: Path) -> Path:
    target = tmp_path / "release" / "goldenpath"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _edit(package: Path, module: str, text: str) -> None:
    path = package / module
    path.write_text(path.read_text() + text)


def _unit(package: Path) -> str:
    return source_fingerprint(module_files(UNIT_SCOPE, package), package)


def _whole(package: Path) -> str:
    return source_fingerprint(sorted(package.rglob("*.py")), package)


def test_the_unit_scope_follows_the_imports_of_the_renderer_and_the_guardrails(
        copy_of_package: Path) -> None:
    names = {p.relative_to(copy_of_package).as_posix()
             for p in module_files(UNIT_SCOPE, copy_of_package)}
    for shaping in ("render/observability/dashboards.py", "render/tenancy.py",
                    "policy/schema.py", "gitops/layout.py", "spec/models.py", "__init__.py",
                    "render/observability/__init__.py", "memo.py"):
        assert shaping in names
    for other in ("services/gitops.py", "cli/app.py", "store/db.py", "scaffold/cookie.py",
                  "gitops/tree.py", "settings.py"):
        assert other not in names
    # a module a scoped one starts to import joins the scope, lazily imported or not
    _edit(copy_of_package, "render/meta.py",
          "\n\ndef _late() -> None:\n    from goldenpath.scaffold import (\n"
          "        cookie,  # noqa\n    )\n")
    names = {p.relative_to(copy_of_package).as_posix()
             for p in module_files(UNIT_SCOPE, copy_of_package)}
    assert {"scaffold/__init__.py", "scaffold/cookie.py"} <= names


def test_only_a_change_in_the_scope_changes_the_unit_fingerprint(copy_of_package: Path) -> None:
    unit, whole = _unit(copy_of_package), _whole(copy_of_package)
    assert unit == _unit(PACKAGE) and whole == _whole(PACKAGE)
    _edit(copy_of_package, "services/gitops.py", "\n# a release of the API side only\n")
    assert _unit(copy_of_package) == unit and _whole(copy_of_package) != whole
    _edit(copy_of_package, "render/observability/dashboards.py", "\n# new dashboards\n")
    assert _unit(copy_of_package) != unit


def test_goldenpath_imports_no_module_by_computed_name() -> None:
    """The scope is read from import statements: a module imported by a computed name
    (importlib, __import__) would run without being in it."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "import_module" not in text and "__import__" not in text, path


@pytest.fixture
def release(monkeypatch: pytest.MonkeyPatch, copy_of_package: Path) -> Iterator[Release]:
    """Run the rest of the test as a goldenpath whose source has ``text`` appended to
    ``module`` (the fingerprints read the copy)."""
    def make(module: str, text: str) -> None:
        _edit(copy_of_package, module, text)
        monkeypatch.setattr(fingerprint, "_PACKAGE", copy_of_package)
        fingerprint.code_fingerprint.cache_clear()
        fingerprint.unit_fingerprint.cache_clear()

    yield make
    monkeypatch.undo()
    fingerprint.code_fingerprint.cache_clear()
    fingerprint.unit_fingerprint.cache_clear()


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def spy(spec: PlatformSpec, names: Iterable[str]) -> Checked:
        calls.append(sorted(names))
        return platform_service.check_teams(spec, names)

    monkeypatch.setattr(gitops, "check_teams", spy)
    return calls


def _changed(remote: Path) -> list[str]:
    return sorted(git("diff", "--name-only", "main~1", "main", cwd=remote).split())


def _apply(platform: Path, remote: Path, settings: Settings) -> str | None:
    return gitops.apply(platform, str(remote), settings=settings).commit


def test_a_release_outside_the_unit_scope_renders_and_rewrites_nothing(
        remote: Path, make_platform: Make, settings_for: SettingsFor, release: Release,
        rendered: list[list[str]]) -> None:
    platform = make_platform("p", teams("alpha", "beta"))
    settings = settings_for("a")
    assert _apply(platform, remote, settings) is not None
    before = fingerprint.code_fingerprint()
    release("services/gitops.py", "\n# a release of the API side only\n")
    assert fingerprint.code_fingerprint() != before  # the caches start afresh
    assert _apply(platform, remote, settings) is None
    assert rendered[-1] == []


def test_a_release_of_the_dashboards_rewrites_the_dashboards_only(
        remote: Path, make_platform: Make, settings_for: SettingsFor, release: Release,
        rendered: list[list[str]]) -> None:
    platform = make_platform("p", teams("alpha", "beta"))
    settings = settings_for("a")
    _apply(platform, remote, settings)
    first = commits(remote)
    original = dashboards.team_panels

    def more_panels(namespace: str) -> list[dict[str, Any]]:
        return [*original(namespace), {"type": "text", "title": "Runbooks"}]

    release("render/observability/dashboards.py", "\n# a Runbooks panel\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dashboards, "team_panels", more_panels)
        assert _apply(platform, remote, settings) is not None
        assert rendered[-1] == ["alpha", "beta"]  # every team has dashboards: checked again
        assert _apply(platform, remote, settings) is None
    changed = _changed(remote)
    owned = [p for p in changed if p.startswith(".goldenpath/owned/")]
    assert owned == [f".goldenpath/owned/{u}.txt" for u in
                     ("cluster-nonprod", "cluster-prod", "layout", "team-alpha", "team-beta")]
    written = [p for p in changed if p not in owned]
    assert written == sorted(f"tenants/{team}/{env}/configmap-dashboard.{team}.{env}.yaml"
                             for team in ("alpha", "beta") for env in ("dev", "prod", "staging"))
    assert len(commits(remote)) == len(first) + 1
