"""The loader: finding files, matching names to files, and reporting every issue at once."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
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
    assert spec.sources[""] == str(EXAMPLE_PLATFORM / "platform.yaml")


def test_teams_are_sorted_by_name_whatever_the_files(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [team_doc("zulu"), team_doc("alpha")])
    (root / "teams" / "mike.yml").write_text((root / "teams" / "zulu.yaml").read_text()
                                             .replace("name: zulu", "name: mike"))
    (root / "teams" / "notes.txt").write_text("not a spec")
    assert [t.name for t in load_platform(root).teams] == ["alpha", "mike", "zulu"]


@pytest.mark.parametrize("teams", ["missing", "empty", "no-yaml"])
def test_platform_without_teams_is_an_error(tmp_path: Path, teams: str) -> None:
    """Applied, an empty platform would offboard every tenant."""
    root = write_platform(tmp_path, platform_doc(), [])
    if teams == "missing":
        (root / "teams").rmdir()
    elif teams == "no-yaml":
        (root / "teams" / "alpha.json").write_text("{}")
    with pytest.raises(SpecError) as info:
        load_platform(root)
    assert [str(issue) for issue in info.value.issues] == [
        f"{root}/teams: no team files (teams/<team>.yaml); a platform needs at least one team"
    ]


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


# --- files a tenant may plant: only regular files inside the platform directory ----------

_OUTSIDE = ("apiVersion: goldenpath.dev/v1alpha1\nkind: Team\nmetadata: {name: topsecret}\n"
            "spec: {password: hunter2, token: [\n")  # quoted by any parse or field error
_LEAVES = ("is a symbolic link that leads outside the platform directory; spec files must "
           "be inside it (replace the link with the file)")


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "elsewhere" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text(_OUTSIDE)
    return secret


def _report(root: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_platform(root, root.parent / "cache")
    return [str(issue) for issue in info.value.issues]


@pytest.mark.parametrize("target", ["secret", "/etc/passwd", "/dev/zero", "/dev/stdin"])
def test_a_team_file_linking_outside_is_refused_without_reading_it(
        tmp_path: Path, target: str) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha")])
    link = root / "teams" / "beta.yaml"
    link.symlink_to(_outside(tmp_path) if target == "secret" else Path(target))
    report = _report(root)
    assert report == [f"{link}: {_LEAVES}"]
    assert not any(word in line for line in report
                   for word in ("topsecret", "hunter2", "root:", "token"))


def test_a_platform_file_linking_outside_is_refused(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha")])
    (root / "platform.yaml").unlink()
    (root / "platform.yaml").symlink_to(_outside(tmp_path))
    assert _report(root) == [f"{root}/platform.yaml: {_LEAVES}"]


def test_a_teams_directory_linking_outside_is_refused(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [])
    _outside(tmp_path)
    (root / "teams").rmdir()
    (root / "teams").symlink_to(tmp_path / "elsewhere")
    assert _report(root) == [f"{root}/teams: {_LEAVES}"]


def test_a_link_through_a_linked_directory_inside_is_followed(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha")])
    (root / "shared").mkdir()
    (root / "teams" / "alpha.yaml").rename(root / "shared" / "alpha.yaml")
    (root / "teams" / "alpha.yaml").symlink_to(Path("..") / "shared" / "alpha.yaml")
    for _ in range(2):  # and again from the cache
        assert load_platform(root, tmp_path / "cache").team("alpha").name == "alpha"


def test_a_link_that_climbs_out_and_back_in_is_followed(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha")])
    (root / "teams" / "alpha.yaml").rename(root / "alpha.yaml")
    (root / "teams" / "alpha.yaml").symlink_to(Path("..") / ".." / "p" / "alpha.yaml")
    assert load_platform(root).team("alpha").name == "alpha"


_LOAD = """
import sys
from goldenpath.errors import SpecError
from goldenpath.spec import load_platform
try:
    load_platform(sys.argv[1])
except SpecError as err:
    print(err)
"""


def test_a_fifo_named_like_a_team_file_does_not_hang_the_loader(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha")])
    os.mkfifo(root / "teams" / "beta.yaml")
    # in a child process: a loader that opens the FIFO blocks until a writer comes
    done = subprocess.run([sys.executable, "-c", _LOAD, str(root)], capture_output=True,
                          text=True, timeout=60, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.stdout.splitlines() == [
        "1 spec error", f"  {root}/teams/beta.yaml: is a FIFO (named pipe), not a regular "
                        "file; spec files must be regular files"]


def test_a_directory_or_socket_named_like_a_team_file_is_refused(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha")])
    (root / "teams" / "beta.yaml").mkdir()
    sock = socket.socket(socket.AF_UNIX)
    here = os.getcwd()
    os.chdir(root / "teams")  # a socket path is limited to 108 bytes
    try:
        sock.bind("gamma.yaml")
    finally:
        os.chdir(here)
        sock.close()
    tail = "not a regular file; spec files must be regular files"
    assert _report(root) == [f"{root}/teams/beta.yaml: is a directory, {tail}",
                             f"{root}/teams/gamma.yaml: is a socket, {tail}"]


def test_a_platform_yaml_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "platform.yaml")
    with pytest.raises(SpecError) as info:
        load_platform(tmp_path)
    assert [str(issue) for issue in info.value.issues] == [
        f"{tmp_path}/platform.yaml: is a FIFO (named pipe), not a regular file; spec files "
        "must be regular files"]


# --- what a tenant writes is shown on one line, bounded ----------------------------------


def test_a_key_or_value_cannot_forge_another_line_of_the_report(tmp_path: Path) -> None:
    forged = "x\n  teams/beta.yaml: spec: all good\x1b[2K"
    team = team_doc("alpha", displayName=forged * 4)
    team["spec"][forged] = forged
    team["spec"]["owners"] = [forged]
    error = spec_error(tmp_path, platform_doc(), [team])
    text = str(error)
    assert len(text.splitlines()) == 1 + len(error.issues) == 4
    assert "\x1b" not in text
    shown = 'x\\n  teams/beta.yaml: spec: all good\\x1b[2K'
    lines = [str(issue).replace(f"{tmp_path}/", "") for issue in error.issues]
    assert lines == [
        f'teams/alpha.yaml: spec.displayName: "{(shown * 4)[:75]}"...: String should have at '
        "most 120 characters",
        f'teams/alpha.yaml: spec.owners[0]: "{shown}": {SUBJECT}',
        f'teams/alpha.yaml: spec.{shown}: "{shown}": {UNKNOWN_FIELD}',
    ]


def test_a_device_named_like_a_team_file_is_refused(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha")])
    try:  # /dev/zero: read, it never ends
        os.mknod(root / "teams" / "beta.yaml", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    assert _report(root) == [f"{root}/teams/beta.yaml: is a character device, not a regular "
                             "file; spec files must be regular files"]
