"""Errors name the file that is wrong, and only that file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from goldenpath.cli import app
from tests.factories import platform_doc, team_doc, write_platform


def _validate(root: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["validate", "--platform", str(root)], terminal_width=400)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line.strip().replace(f"{root}/", "") for line in result.stderr.splitlines()]
    return result.exit_code, lines


def test_a_team_called_platform_is_reported_in_its_own_file(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [team_doc("alpha"), team_doc("platform")])
    code, lines = _validate(root)
    assert code == 1
    assert lines == ["error: 1 spec error",
                     'teams/platform.yaml: metadata.name: "platform": is reserved for the '
                     "platform; choose another"]


def test_an_invalid_team_file_is_not_also_not_a_team_elsewhere(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [
        team_doc("alpha", network={"allowFromTeams": ["beta", "ghost"]}),
        team_doc("beta", quota={"cpu": "lots"}),
    ])
    code, lines = _validate(root)
    assert code == 1
    assert lines == [
        "error: 2 spec errors",
        'teams/alpha.yaml: spec.network.allowFromTeams[1]: "ghost": is not a team (known: '
        "alpha)",
        'teams/beta.yaml: spec.quota.cpu: "lots": is not a Kubernetes quantity (for example '
        "500m, 2, 8Gi)",
    ]
