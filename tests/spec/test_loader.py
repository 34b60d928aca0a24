"""The loader: finding files, matching names to files, and reporting every issue at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath.errors import GoldenpathError, SpecError, SpecIssue
from goldenpath.spec import load_platform, parse_team
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform
from tests.spec.support import QUANTITY, SUBJECT, UNKNOWN_FIELD, issue_lines, spec_error


def test_example_platform_loads() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    assert spec.name == "acme"
    assert [t.name for t in spec.teams] == ["checkout", "data-platform", "payments", "storefront"]
    assert spec.sources["payments"] == str(EXAMPLE_PLATFORM / "teams" / "payments.yaml")
    assert spec.sources["platform"] == str(EXAMPLE_PLATFORM / "platform.yaml")


def test_teams_are_sorted_by_name_whatever_the_files(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [team_doc("zulu"), team_doc("alpha")])
    (root / "teams" / "mike.yml").write_text((root / "teams" / "zulu.yaml").read_text()
                                             .replace("name: zulu", "name: mike"))
    (root / "teams" / "notes.txt").write_text("not a spec")
    assert [t.name for t in load_platform(root).teams] == ["alpha", "mike", "zulu"]


def test_platform_without_teams_directory(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [])
    (root / "teams").rmdir()
    assert load_platform(root).teams == ()


def test_missing_platform_yaml(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_platform(tmp_path)
    assert [str(issue) for issue in info.value.issues] == [
        f"{tmp_path}/platform.yaml: platform file not found; pass --platform DIR pointing at "
        "the platform definition"
    ]


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_platform(tmp_path / "nowhere")
    assert len(info.value.issues) == 1
    assert info.value.issues[0].file == str(tmp_path / "nowhere" / "platform.yaml")


def test_metadata_name_must_equal_file_name(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [team_doc("alpha")])
    (root / "teams" / "alpha.yaml").rename(root / "teams" / "beta.yaml")
    assert issue_lines(root, platform_doc(), []) == [
        "teams/beta.yaml: metadata.name: \"alpha\": must equal the file name 'beta'"
    ]


def test_team_defined_twice(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [team_doc("alpha")])
    (root / "teams" / "alpha.yml").write_text((root / "teams" / "alpha.yaml").read_text())
    assert issue_lines(root, platform_doc(), []) == [
        f'teams/alpha.yml: metadata.name: "alpha": team is defined twice (also in '
        f"{root}/teams/alpha.yaml)"
    ]


def test_issue_format() -> None:
    with_value = SpecIssue("teams/a.yaml", "spec.quota.cpu", "is bad", value="lots",
                           has_value=True)
    assert str(with_value) == 'teams/a.yaml: spec.quota.cpu: "lots": is bad'
    assert str(SpecIssue("teams/a.yaml", "spec.owners", "is required")) == (
        "teams/a.yaml: spec.owners: is required"
    )
    assert str(SpecIssue("teams/a.yaml", "", "not YAML")) == "teams/a.yaml: not YAML"
    assert str(SpecIssue("f", "p", "m", value=3, has_value=True)) == "f: p: 3: m"
    assert str(SpecIssue("f", "p", "m", value=None, has_value=True)) == "f: p: None: m"
    long_value = str(SpecIssue("f", "p", "m", value=list(range(100)), has_value=True))
    assert long_value == f"f: p: {repr(list(range(100)))[:77]}...: m"


def test_all_errors_in_all_files_are_reported_at_once_and_sorted(tmp_path: Path) -> None:
    platform = platform_doc(admins=["admins"])
    platform["spec"]["defaults"] = {"quota": {"cpu": "many"}}
    teams = [
        team_doc("zulu", owners=["bob"], quota={"pods": "9"}),
        team_doc("alpha", colour="red", network={"allowFromTeams": ["ghost"]}),
        team_doc("mike", services=[{"name": "api", "template": "rust-service"}]),
        team_doc("Bad"),
    ]
    root = tmp_path / "p"
    write_platform(root, platform, teams)
    (root / "teams" / "broken.yaml").write_text("a: 1\na: 2\n")
    error = spec_error(root, platform, [])
    lines = [str(issue).replace(f"{root}/", "") for issue in error.issues]
    assert lines == [
        f'platform.yaml: spec.admins[0]: "admins": {SUBJECT}',
        f'platform.yaml: spec.defaults.quota.cpu: "many": {QUANTITY}',
        "teams/Bad.yaml: metadata.name: \"Bad\": is not a DNS-1123 label (lower-case letters, "
        "digits and '-', starting and ending with a letter or digit, at most 63 characters)",
        f'teams/alpha.yaml: spec.colour: "red": {UNKNOWN_FIELD}',
        "teams/broken.yaml: line 2: duplicate key 'a' (first at line 1); YAML would silently "
        "keep only the last value",
        f'teams/zulu.yaml: spec.owners[0]: "bob": {SUBJECT}',
        'teams/zulu.yaml: spec.quota.pods: "9": Input should be a valid integer',
    ]
    assert len(error.issues) == 7
    assert str(error).splitlines() == ["7 spec errors", *(f"  {issue}" for issue in error.issues)]


def test_cross_file_errors_are_reported_together(tmp_path: Path) -> None:
    host = {"host": "a.example.com", "environments": ["prod"]}
    teams = [
        team_doc("alpha", environments=["dev", "qa"], services=[]),
        team_doc("beta", network={"allowFromTeams": ["ghost"]},
                 services=[{"name": "api", "template": "python-service", "ingress": host}]),
        team_doc("gamma", services=[{"name": "api", "template": "nope", "ingress": host}]),
    ]
    lines = issue_lines(tmp_path, platform_doc(), teams)
    assert lines == [
        'teams/alpha.yaml: spec.environments[1]: "qa": is not an environment of the platform '
        "(known: dev, prod, staging)",
        'teams/beta.yaml: spec.network.allowFromTeams[0]: "ghost": is not a team '
        "(known: alpha, beta, gamma)",
        'teams/gamma.yaml: spec.services[0].ingress.host: "a.example.com": is already used by '
        "beta/api; ingress hosts must be unique",
        'teams/gamma.yaml: spec.services[0].template: "nope": is not a template of the platform '
        "(known: python-service, python-worker)",
    ]


def test_single_error_headline(tmp_path: Path) -> None:
    error = spec_error(tmp_path, platform_doc(), [team_doc("alpha", owners=["x"])])
    assert str(error) == (
        f'1 spec error\n  {tmp_path}/teams/alpha.yaml: spec.owners[0]: "x": {SUBJECT}'
    )
    assert isinstance(error, GoldenpathError)


def test_parse_team_accepts_a_valid_document() -> None:
    team = parse_team(team_doc("alpha"), "request")
    assert team.name == "alpha"
    assert team.spec.services[0].replicas == {"dev": 1, "staging": 2, "prod": 3}


def test_parse_team_reports_every_issue_against_the_given_name() -> None:
    with pytest.raises(SpecError) as info:
        parse_team(team_doc("alpha", owners=["x"], quota={"cpu": "0"}), "request")
    assert [str(issue) for issue in info.value.issues] == [
        f'request: spec.owners[0]: "x": {SUBJECT}',
        'request: spec.quota.cpu: "0": must be greater than zero',
    ]
