"""The command line: `validate` and `render`, their output, exit codes and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from goldenpath.cli import app
from goldenpath.gitops.layout import repository_files
from goldenpath.services.platform import load_and_check
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform

GUARDRAILS = ["schema", "pod-security", "resource-quota", "limit-range", "default-deny",
              "network-selectors", "rbac-bindings", "rbac-roles", "service-accounts",
              "argocd-projects", "argocd-applications", "shared-edge", "edge-admission",
              "no-secrets", "capacity"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _row(output: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is ``first_cell``."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines()
            if line.startswith("│")]
    [row] = [row for row in rows if row[0] == first_cell]
    return row


def _bad_platform(root: Path) -> Path:
    return write_platform(root, platform_doc(), [team_doc("alpha", quota={"cpu": "lots"})])


def test_validate_example(runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate", "--platform", str(EXAMPLE_PLATFORM)],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Guardrails" in result.stdout
    for name in GUARDRAILS:
        assert _row(result.stdout, name)[-1] == "pass"
    assert int(_row(result.stdout, "pod-security")[2]) == 10
    assert "ok: 4 teams, all guardrails pass" in result.stdout
    # No service of the example was made by new-service here: said once, not an error.
    assert result.stderr.startswith("warning: service repositories not checked (goldenpath "
                                    "cannot read them): checkout/cart (not made by "
                                    "new-service here: no ")
    assert result.stderr.endswith("; and 1 more\n") and result.stderr.count("\n") == 1


def test_validate_defaults_to_platform_directory(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_platform(tmp_path / "platform", platform_doc(), [team_doc("alpha")])
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "ok: 1 teams, all guardrails pass" in result.stdout


def test_validate_bad_spec(runner: CliRunner, tmp_path: Path) -> None:
    root = _bad_platform(tmp_path)
    result = runner.invoke(app, ["validate", "--platform", str(root)], terminal_width=400)
    assert result.exit_code == 1
    assert result.stdout == ""
    stderr = " ".join(result.stderr.split())
    assert "error: 1 spec error" in stderr
    assert (f'{root}/teams/alpha.yaml: spec.quota.cpu: "lots": is not a Kubernetes quantity '
            "(for example 500m, 2, 8Gi)") in stderr


def test_validate_policy_failure(runner: CliRunner, tmp_path: Path) -> None:
    platform = platform_doc()
    platform["spec"]["clusters"][1]["capacity"] = {"cpu": "1", "memory": "1Ti"}
    root = write_platform(tmp_path, platform, [team_doc("alpha")])
    result = runner.invoke(app, ["validate", "--platform", str(root)], terminal_width=400)
    assert result.exit_code == 1
    assert _row(result.stdout, "capacity")[-1] == "FAIL (1)"
    assert _row(result.stdout, "schema")[-1] == "pass"
    stderr = " ".join(result.stderr.split())
    assert ("violation: [capacity] cluster prod: team quotas request 4 cpu, more than the "
            "cluster's capacity 1; largest: alpha-prod 4") in stderr
    assert "error: 1 guardrail violation(s)" in stderr


def test_validate_checks_again_only_what_changed_since_it_last_passed(
        runner: CliRunner, here: Path) -> None:
    """With the state an apply leaves (its spec cache), a team that passed under its
    current inputs is not checked again; --full checks every team."""
    write_platform(here / "platform", platform_doc(), [team_doc("alpha"), team_doc("beta")])
    (here / ".goldenpath" / "cache" / "spec").mkdir(parents=True)
    first = runner.invoke(app, ["validate"], terminal_width=200)
    assert first.exit_code == 0, first.output
    assert "ok: 2 teams, all guardrails pass\n" in first.stdout
    write_platform(here / "platform", platform_doc(),
                   [team_doc("alpha", quota={"cpu": "3"}), team_doc("beta")])
    again = runner.invoke(app, ["validate"], terminal_width=200)
    assert again.exit_code == 0, again.output
    assert ("ok: 2 teams, all guardrails pass (1 team unchanged since they last passed, not "
            "checked again; --full checks every team)") in " ".join(again.stdout.split())
    assert int(_row(again.stdout, "pod-security")[2]) == 3  # alpha's namespaces only
    full = runner.invoke(app, ["validate", "--full"], terminal_width=200)
    assert "ok: 2 teams, all guardrails pass\n" in full.stdout
    assert int(_row(full.stdout, "pod-security")[2]) == 6


def test_validate_missing_platform(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--platform", str(tmp_path)], terminal_width=400)
    assert result.exit_code == 1
    assert f"{tmp_path}/platform.yaml: platform file not found" in result.stderr


def test_render_writes_the_tree(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", "--platform", str(EXAMPLE_PLATFORM), "--out",
                                 str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert "tenants/payments/prod/namespace-payments-prod.yaml" in files
    assert "tenants/payments/dev/resourcequota-quota.yaml" in files
    assert "tenants/checkout/dev/networkpolicy-default-deny.yaml" in files
    assert "clusters/prod/platform/clusterrole-goldenpath-tenant-edit.yaml" in files
    namespace = (out / "tenants/payments/prod/namespace-payments-prod.yaml").read_text()
    assert "pod-security.kubernetes.io/enforce: restricted\n" in namespace
    assert "Rendered" in result.stdout
    # storefront has dev and prod only
    assert _row(result.stdout, "storefront")[0] == "storefront"
    assert "" in _row(result.stdout, "storefront")[1:]
    for team in ("checkout", "data-platform", "payments", "(platform)"):
        assert int(_row(result.stdout, team)[-1]) > 0
    written = len(files)
    assert f"wrote {written} files for 4 teams to {out}" in " ".join(result.stdout.split())


def test_render_writes_exactly_the_tree_apply_commits(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["render", "--platform", str(EXAMPLE_PLATFORM), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    on_disk = {p.relative_to(out).as_posix(): p.read_bytes()
               for p in out.rglob("*") if p.is_file()}
    checked = load_and_check(EXAMPLE_PLATFORM)
    assert on_disk == repository_files(checked.spec, checked.bundle)


def test_render_twice_replaces_its_own_tree(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["render", "--platform", str(EXAMPLE_PLATFORM), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert runner.invoke(app, args).exit_code == 0
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == first


def test_render_bad_spec_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    root = _bad_platform(tmp_path / "platform")
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", "--platform", str(root), "--out", str(out)],
                           terminal_width=400)
    assert result.exit_code == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["platform"]
    assert f'{root}/teams/alpha.yaml: spec.quota.cpu: "lots"' in " ".join(result.stderr.split())


def test_render_policy_violation_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    platform = platform_doc()
    platform["spec"]["clusters"][1]["capacity"] = {"cpu": "1", "memory": "1Ti"}
    root = write_platform(tmp_path / "platform", platform, [team_doc("alpha")])
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", "--platform", str(root), "--out", str(out)],
                           terminal_width=400)
    assert result.exit_code == 1
    assert not out.exists()
    stderr = " ".join(result.stderr.split())
    assert "error: 1 guardrail violation; nothing was written [capacity] cluster prod: " in stderr


def test_render_refuses_a_foreign_directory(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["render", "--platform", str(EXAMPLE_PLATFORM), "--out",
                                 str(out)], terminal_width=400)
    assert result.exit_code == 1
    assert "holds files goldenpath did not write (notes.txt)" in " ".join(result.stderr.split())
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


def test_render_into_an_empty_directory(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["render", "--platform", str(EXAMPLE_PLATFORM), "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "tenants/storefront/dev/limitrange-limits.yaml").is_file()


def test_render_requires_out(runner: CliRunner) -> None:
    result = runner.invoke(app, ["render", "--platform", str(EXAMPLE_PLATFORM)])
    assert result.exit_code == 1  # a usage error; 2 means "changes pending"


def test_error_text_is_printed_verbatim(runner: CliRunner, tmp_path: Path) -> None:
    # "[bold]" would be read as rich markup if the message were not escaped
    root = write_platform(tmp_path, platform_doc(), [team_doc("alpha", owners=["[bold]x"])])
    result = runner.invoke(app, ["validate", "--platform", str(root)], terminal_width=400)
    assert result.exit_code == 1
    assert f'{root}/teams/alpha.yaml: spec.owners[0]: "[bold]x": is not a subject' in (
        " ".join(result.stderr.split()))
