"""A broken platform ends the program with the message the CLI prints, and nothing is
declared: Pulumi must never act on a spec the GitOps path would refuse."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
from typer.testing import CliRunner

from goldenpath.cli import app
from goldenpath.services.platform import load_and_check
from goldenpath_stack.config import StackConfig
from goldenpath_stack.program import build
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform
from tests.stacks.conftest import RecordingMonitor


def _cli_error(platform: Path, out: Path) -> str:
    """What ``goldenpath render`` prints for this platform, without the ``error: `` prefix."""
    result = CliRunner().invoke(app, ["render", "--platform", str(platform), "--out", str(out)])
    assert result.exit_code == 1, result.output
    first, *rest = result.stderr.rstrip("\n").split("\n")
    assert first.startswith("error: ")
    return "\n".join([first.removeprefix("error: "), *rest])


def _program_error(platform: Path, cluster: str = "prod",
                   protected: frozenset[str] | None = None) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        build(StackConfig(platform_dir=platform, cluster=cluster,
                          protected_environments=protected))
    return str(caught.value)


@pytest.mark.parametrize(
    "team",
    [
        team_doc("payments", quota={"cpu": "lots"}),
        team_doc("payments", environments=["dev", "qa"]),
        team_doc("Not A Name"),
    ],
    ids=["bad-quantity", "unknown-environment", "bad-name"],
)
def test_bad_spec_fails_with_the_cli_message(monitor: RecordingMonitor, tmp_path: Path,
                                             team: dict[str, object]) -> None:
    platform = write_platform(tmp_path / "platform", platform_doc(), [team])
    message = _program_error(platform)
    assert message == _cli_error(platform, tmp_path / "out")
    assert "spec error" in message
    assert monitor.registrations == {}


def test_missing_platform_fails_with_the_cli_message(monitor: RecordingMonitor,
                                                     tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert _program_error(missing) == _cli_error(missing, tmp_path / "out")


def test_unknown_cluster_names_the_known_ones(monitor: RecordingMonitor) -> None:
    message = _program_error(EXAMPLE_PLATFORM, cluster="staging")
    assert message == ("cluster 'staging' has no objects in this platform "
                       "(goldenpath:cluster must be one of: nonprod, prod)")
    assert monitor.registrations == {}


def test_guardrail_violation_fails_with_the_cli_message(monitor: RecordingMonitor,
                                                        tmp_path: Path) -> None:
    """A spec that loads but breaks a guardrail (team quotas beyond the prod cluster's
    declared capacity) stops the program exactly as it stops the CLI."""
    doc = platform_doc()
    doc["spec"]["clusters"][1]["capacity"] = {"cpu": "1", "memory": "1Gi"}
    platform = write_platform(tmp_path / "platform", doc, [team_doc("payments")])
    message = _program_error(platform)
    assert message == _cli_error(platform, tmp_path / "out")
    assert "guardrail violation" in message
    assert "[capacity] cluster prod" in message
    assert monitor.registrations == {}


@pytest.mark.parametrize("protected", [{"production"}, {"prod", "Prod"}, {"qa", "prod"}])
def test_protected_environments_must_be_environments_of_the_platform(
    monitor: RecordingMonitor, protected: set[str]
) -> None:
    """A typo would leave production namespaces unprotected without a word."""
    message = _program_error(EXAMPLE_PLATFORM, protected=frozenset(protected))
    unknown = min(protected - {"prod"})
    assert message == (f"goldenpath:protectedEnvironments: {unknown!r} is not an environment "
                       "of the platform (known: dev, prod, staging)")
    assert monitor.registrations == {}


def test_by_default_the_platforms_protected_environments_are_protected(
    monitor: RecordingMonitor, tmp_path: Path
) -> None:
    doc = platform_doc()
    doc["spec"]["environments"][1]["protected"] = True  # staging
    doc["spec"]["environments"][2]["protected"] = False  # prod
    platform = write_platform(tmp_path / "platform", doc, [team_doc("alpha")])
    assert StackConfig(platform_dir=platform, cluster="nonprod").protected(
        load_and_check(platform).spec) == frozenset({"staging"})
