"""The specs in the control repository: committed with their objects, and a directory
behind them (a request changed a team since it was copied) refused by apply."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from goldenpath.cli import app
from goldenpath.errors import SpecError
from goldenpath.gitops import specfiles
from goldenpath.gitops.staleness import SpecsBehind
from goldenpath.services import gitops
from goldenpath.services import teams as svc
from goldenpath.services.teams import Requester, Where
from goldenpath.settings import Settings, get_settings
from goldenpath.spec import PlatformSpec
from tests.factories import team_doc
from tests.gitops.conftest import commits, files_of, git, teams

Make = Callable[..., Path]
SettingsFor = Callable[[str], Settings]
ALICE = Requester("user:alice@example.com", "req-42")


def changed(remote: Path, ref: str = "main") -> list[str]:
    return git("diff", "--name-only", f"{ref}~1", ref, cwd=remote).split()


def test_specs_land_with_their_objects_in_one_commit(
        remote: Path, make_platform: Make, settings_for: SettingsFor) -> None:
    platform = make_platform("p", teams("alpha", "beta"))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    files = files_of(remote)
    assert len(commits(remote)) == 1
    assert files["platform/platform.yaml"] == (platform / "platform.yaml").read_bytes()
    assert files["platform/teams/beta.yaml"] == (platform / "teams/beta.yaml").read_bytes()
    # each team's spec file is in its unit, the platform's in its own
    assert "platform/teams/alpha.yaml" in files[".goldenpath/owned/team-alpha.txt"].decode()
    assert "platform/platform.yaml" in files[".goldenpath/owned/platform.txt"].decode()
    # specs are no manifests: no kustomization lists them
    assert not any(p.startswith("platform/") and p.endswith("kustomization.yaml") for p in files)


def test_a_one_team_change_writes_that_teams_files_and_spec_only(
        remote: Path, make_platform: Make, settings_for: SettingsFor) -> None:
    platform = make_platform("p", teams("alpha", "beta"))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    make_platform("p", teams("alpha", "beta", beta={"quota": {"cpu": "9"}}))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    paths = changed(remote)
    assert "platform/teams/beta.yaml" in paths
    assert all("beta" in p for p in paths), paths
    # a comment alone: the spec file and its unit's manifest, no object
    file = platform / "teams" / "beta.yaml"
    file.write_text("# beta: reviewed\n" + file.read_text())
    result = gitops.apply(platform, str(remote), settings=settings_for("a"))
    assert result.plan.objects == []
    assert sorted(changed(remote)) == [".goldenpath/owned/team-beta.txt",
                                       "platform/teams/beta.yaml"]


def test_offboarding_removes_the_spec_file_with_the_objects(
        remote: Path, make_platform: Make, settings_for: SettingsFor) -> None:
    platform = make_platform("p", teams("alpha", "beta"))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    (platform / "teams" / "beta.yaml").unlink()
    gitops.apply(platform, str(remote), settings=settings_for("a"), allow_offboarding=True)
    assert not any("beta" in p for p in files_of(remote))


@pytest.fixture
def seeded(remote: Path, make_platform: Make, settings_for: SettingsFor
           ) -> tuple[Path, Where]:
    """A directory applied to the remote, and the API's view of that remote."""
    platform = make_platform("p", teams("alpha", "beta"))
    gitops.apply(platform, str(remote), settings=settings_for("cli"))
    return platform, Where(str(remote), "main", settings_for("api"))


def api_update(where: Where, team: str, **spec: object) -> None:
    found = svc.get_team(team, where)
    doc = copy.deepcopy(found.document)
    doc["spec"].update(spec)
    svc.update_team(team, doc, found.etag, ALICE, where)


def test_a_directory_behind_a_request_is_refused_naming_the_team(
        seeded: tuple[Path, Where], remote: Path, settings_for: SettingsFor) -> None:
    platform, where = seeded
    api_update(where, "alpha", costCenter="CC-api")
    head = git("rev-parse", "main", cwd=remote).strip()
    # the directory changes beta (its own edit); alpha is as it was copied
    beta = platform / "teams" / "beta.yaml"
    beta.write_text(beta.read_text().replace("CC-1", "CC-dir"))
    with pytest.raises(SpecsBehind) as found:
        gitops.apply(platform, str(remote), settings=settings_for("cli"))
    assert found.value.teams == ["alpha"]
    assert str(found.value).startswith(
        "the platform directory differs from the control repository's specs for alpha "
        "(platform/teams/alpha.yaml is behind the repository: request req-42, commit "
        f"{head[:12]}); nothing was pushed.")
    assert git("rev-parse", "main", cwd=remote).strip() == head
    # plan says so too
    assert gitops.plan(platform, str(remote), settings=settings_for("cli")).warnings[0] \
        .startswith("apply would refuse: the platform directory differs")


def test_a_local_edit_on_top_of_an_old_version_is_a_conflict(
        seeded: tuple[Path, Where], remote: Path, settings_for: SettingsFor) -> None:
    platform, where = seeded
    api_update(where, "alpha", costCenter="CC-api")
    alpha = platform / "teams" / "alpha.yaml"
    alpha.write_text(alpha.read_text().replace("CC-1", "CC-dir"))
    with pytest.raises(SpecsBehind, match=r"alpha \(platform/teams/alpha\.yaml was edited "
                                          r"here, but the repository's version came from "
                                          r"another writer: request req-42"):
        gitops.apply(platform, str(remote), settings=settings_for("cli"))


def test_a_team_created_through_a_request_is_not_offboarded_by_an_old_directory(
        seeded: tuple[Path, Where], remote: Path, settings_for: SettingsFor) -> None:
    platform, where = seeded
    svc.create_team(team_doc("gamma"), ALICE, where)
    with pytest.raises(SpecsBehind, match=r"for gamma \(platform/teams/gamma.yaml is behind"):
        gitops.apply(platform, str(remote), settings=settings_for("cli"))
    assert "platform/teams/gamma.yaml" in files_of(remote)


def test_force_overwrites_and_says_so_in_the_commit(
        seeded: tuple[Path, Where], remote: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    platform, where = seeded
    api_update(where, "alpha", costCenter="CC-api")
    monkeypatch.setenv("GOLDENPATH_STATE_DIR", str(tmp_path / "state-cli"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        refused = runner.invoke(app, ["apply", "--platform", str(platform), "--repo", str(remote)])
        assert refused.exit_code == 1
        assert "error: the platform directory differs from the control repository's specs " \
               "for alpha" in refused.output
        forced = runner.invoke(app, ["apply", "--platform", str(platform), "--repo",
                                     str(remote), "--force"])
    finally:
        get_settings.cache_clear()
    assert forced.exit_code == 0, forced.output
    assert "--force overwrote the repository's specs of alpha" in forced.output
    assert "Forced-Specs: alpha\n" in git("log", "-1", "--format=%B", cwd=remote)
    stored = yaml.safe_load(files_of(remote)["platform/teams/alpha.yaml"])
    assert stored["spec"]["costCenter"] == "CC-1"


def test_directories_alone_may_go_back_to_an_old_version(
        remote: Path, make_platform: Make, settings_for: SettingsFor) -> None:
    """No request ever wrote a spec: reverting a team file is a change like any other."""
    platform = make_platform("p", teams("alpha"))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    make_platform("p", teams("alpha", alpha={"costCenter": "CC-2"}))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    make_platform("p", teams("alpha"))  # back to the first version, byte for byte
    assert gitops.apply(platform, str(remote), settings=settings_for("a")).commit is not None


def test_a_directory_in_step_with_the_requests_applies(
        seeded: tuple[Path, Where], remote: Path, settings_for: SettingsFor) -> None:
    platform, where = seeded
    api_update(where, "alpha", costCenter="CC-api")
    (platform / "teams" / "alpha.yaml").write_bytes(files_of(remote)["platform/teams/alpha.yaml"])
    result = gitops.apply(platform, str(remote), settings=settings_for("cli"))
    assert result.commit is None  # nothing to do, nothing refused


def test_embedded_mode_applies_the_example_with_its_specs_and_then_nothing(
        tmp_path: Path) -> None:
    """`make run` twice: the embedded repository is created with the specs, then a
    second apply finds every file equal and makes no commit."""
    platform = tmp_path / "platform"
    shutil.copytree(Path(__file__).resolve().parents[2] / "platform", platform)
    settings = Settings(state_dir=tmp_path / ".goldenpath", gitops_repo="")
    first = gitops.apply(platform, settings=settings)
    assert first.commit is not None
    embedded = settings.embedded_gitops_repo
    files = files_of(embedded)
    assert files["platform/teams/checkout.yaml"] == (platform / "teams/checkout.yaml").read_bytes()
    second = gitops.apply(platform, settings=settings)
    assert second.commit is None and len(commits(embedded)) == 1


def test_a_spec_file_edited_while_apply_runs_is_not_committed(
        remote: Path, make_platform: Make, settings_for: SettingsFor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes committed must be the document the objects were rendered from."""
    platform = make_platform("p", teams("alpha"))
    read = specfiles.read

    def edited_meanwhile(spec: PlatformSpec) -> specfiles.SpecFiles:
        files = read(spec)
        path, content = files["team-alpha"]
        files["team-alpha"] = (path, content.replace(b"CC-1", b"CC-later"))
        return files

    monkeypatch.setattr(specfiles, "read", edited_meanwhile)
    with pytest.raises(SpecError, match=r"alpha\.yaml: changed while goldenpath was reading"):
        gitops.apply(platform, str(remote), settings=settings_for("a"))
    assert commits(remote) == []
