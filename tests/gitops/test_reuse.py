"""apply renders only the teams the repository does not hold as they are now: a team
whose recorded input digest is current and whose files are intact is kept unrendered."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from goldenpath.gitops.layout import repository_files
from goldenpath.services import gitops, passedteams
from goldenpath.services import platform as platform_service
from goldenpath.services.platform import Checked, load_and_check
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec, fingerprint
from tests.gitops.conftest import commits, files_of, git, teams

Make = Callable[..., Path]
SettingsFor = Callable[[str], Settings]


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The teams each plan or apply rendered and checked, with the process's memo of
    teams that passed off (it would serve a team a plan or an earlier apply of these
    inputs rendered; see tests/services/test_passedteams.py): what the base keeps."""
    calls: list[list[str]] = []
    monkeypatch.setattr(passedteams, "PASSED", passedteams.PassedTeams(0, 0))

    def spy(spec: PlatformSpec, names: Iterable[str]) -> Checked:
        calls.append(sorted(names))
        return platform_service.check_teams(spec, names)

    monkeypatch.setattr(gitops, "check_teams", spy)
    return calls


def _changed(remote: Path) -> list[str]:
    return git("diff", "--name-only", "main~1", "main", cwd=remote).split()


def test_only_changed_or_drifted_teams_are_rendered(
    remote: Path, tmp_path: Path, make_platform: Make, settings_for: SettingsFor,
    rendered: list[list[str]],
) -> None:
    settings = settings_for("a")
    gitops.apply(make_platform("p1", teams("alpha", "beta")), str(remote), settings=settings)
    assert gitops.apply(make_platform("p2", teams("alpha", "beta")), str(remote),
                        settings=settings).commit is None
    changed = make_platform("p3", teams("alpha", "beta", beta={"quota": {"cpu": "9"}}))
    assert gitops.apply(changed, str(remote), settings=settings).commit is not None
    assert rendered == [["alpha", "beta"], [], ["beta"]]

    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    quota = clone / "tenants/alpha/dev/resourcequota-quota.yaml"
    quota.write_text(quota.read_text().replace('pods: "40"', 'pods: "999"'))
    git("commit", "-q", "-am", "hand edit", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    plan = gitops.plan(changed, str(remote), settings=settings)
    assert [d.path for d in plan.drift] == ["tenants/alpha/dev/resourcequota-quota.yaml"]
    assert gitops.apply(changed, str(remote), settings=settings).commit is not None
    assert rendered[-2:] == [["alpha"], ["alpha"]]
    assert _changed(remote) == ["tenants/alpha/dev/resourcequota-quota.yaml"]


def test_new_code_renders_every_team_again_and_records_the_new_digests(
    remote: Path, make_platform: Make, settings_for: SettingsFor,
    rendered: list[list[str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    platform = make_platform("p", teams("alpha", "beta"))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    monkeypatch.setattr(fingerprint, "unit_fingerprint", lambda: "another goldenpath")
    before = commits(remote)
    assert gitops.apply(platform, str(remote), settings=settings_for("a")).commit is not None
    assert rendered[-1] == ["alpha", "beta"]
    # Same objects: only the ownership manifests change, to record the new digests
    # (the cluster and layout units record the code itself).
    owned = ".goldenpath/owned/"
    assert sorted(_changed(remote)) == [
        f"{owned}{unit}.txt"
        for unit in ("cluster-nonprod", "cluster-prod", "layout", "team-alpha", "team-beta")]
    assert gitops.apply(platform, str(remote), settings=settings_for("a")).commit is None
    assert rendered[-1] == [] and len(commits(remote)) == len(before) + 1


def test_kustomizations_follow_added_files_and_a_hand_edited_one_is_restored(
    remote: Path, tmp_path: Path, make_platform: Make, settings_for: SettingsFor,
) -> None:
    settings = settings_for("a")
    gitops.apply(make_platform("p1", teams("alpha", "beta")), str(remote), settings=settings)
    service = {"name": "worker", "template": "python-worker", "replicas": {"dev": 1}}
    grown = make_platform("p2", teams("alpha", "beta", beta={"services": [service]}))
    gitops.apply(grown, str(remote), settings=settings)
    checked = load_and_check(grown)
    assert files_of(remote) == repository_files(checked.spec, checked.bundle)

    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    (clone / "tenants/alpha/dev/kustomization.yaml").write_text("resources: []\n")
    git("commit", "-q", "-am", "hand edit", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    assert gitops.apply(grown, str(remote), settings=settings).commit is not None
    assert files_of(remote) == repository_files(checked.spec, checked.bundle)


def test_a_team_is_rendered_again_when_another_starts_or_stops_listing_it(
    remote: Path, make_platform: Make, settings_for: SettingsFor,
    rendered: list[list[str]],
) -> None:
    """beta's allowFromTeams opens alpha's egress: the change is in beta's file only,
    yet alpha's files are rewritten, in the environments both teams have."""
    settings = settings_for("a")
    gitops.apply(make_platform("p1", teams("alpha", "beta", beta={"environments": ["dev"],
                                                                  "services": []})),
                 str(remote), settings=settings)
    lists = {"environments": ["dev"], "services": [], "network": {"allowFromTeams": ["alpha"]}}
    listing = make_platform("p2", teams("alpha", "beta", beta=lists))
    assert gitops.apply(listing, str(remote), settings=settings).commit is not None
    assert rendered[-1] == ["alpha", "beta"]
    egress = "tenants/alpha/dev/networkpolicy-allow-to-teams.yaml"
    assert egress in _changed(remote) and "tenants/beta/dev/networkpolicy-allow-from-teams.yaml" \
        in _changed(remote)
    assert b"- beta-dev" in files_of(remote)[egress]
    assert not any(p.startswith("tenants/alpha/prod/networkpolicy-allow-to")
                   for p in files_of(remote))
    # a second applier (its own state directory) agrees nothing is left to do
    assert gitops.apply(listing, str(remote), settings=settings_for("b")).commit is None

    stopped = make_platform("p3", teams("alpha", "beta", beta={"environments": ["dev"],
                                                               "services": []}))
    assert gitops.apply(stopped, str(remote), settings=settings).commit is not None
    assert rendered[-1] == ["alpha", "beta"]
    assert egress in _changed(remote) and egress not in files_of(remote)
