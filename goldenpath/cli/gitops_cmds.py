"""``goldenpath plan`` and ``goldenpath apply``: the control repository front door.

plan exits 0 when the repository is up to date, 2 when changes are pending (like
``terraform plan -detailed-exitcode``), 1 on any error; apply exits 0 or 1.
"""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

import typer
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from goldenpath.cli.app import (
    DEFAULT_PLATFORM,
    EXIT_CHANGES,
    EXIT_OK,
    PlatformOption,
    app,
    err,
    out,
    print_table,
    reported_errors,
)
from goldenpath.services import gitops as service
from goldenpath.services.gitops import Plan

RepoOption = Annotated[
    str | None,
    typer.Option("--repo", help="GitOps repository URL or path "
                 "(default: GOLDENPATH_GITOPS_REPO, else the embedded .goldenpath/gitops.git)."),
]
DiffOption = Annotated[bool, typer.Option("--diff/--no-diff", help="Print a diff per file.")]


@app.command()
def plan(platform: PlatformOption = DEFAULT_PLATFORM, repo: RepoOption = None,
         diff: DiffOption = True) -> None:
    """Show what apply would change: objects, file diffs and drift. Exit 2 if any."""
    with reported_errors():
        result = service.plan(platform, repo, diffs=diff)
    show(result, diff)
    raise typer.Exit(EXIT_CHANGES if result.has_changes else EXIT_OK)


@app.command()
def apply(  # noqa: PLR0917  (typer: one parameter per option)
    platform: PlatformOption = DEFAULT_PLATFORM,
    repo: RepoOption = None,
    branch: Annotated[str | None, typer.Option(
        "--branch", help="Push to this review branch instead of the target revision.")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m",
                                                help="Commit subject.")] = None,
    diff: DiffOption = False,
    allow_offboarding: Annotated[bool, typer.Option(
        "--allow-offboarding", help=f"Allow removing more than {service.MAX_OFFBOARDED_TEAMS} "
        "teams, or any namespace of a protected environment.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Apply even where the directory is behind the repository's specs "
        "(changed through the API since it was copied); the commit says so.")] = False,
) -> None:
    """Commit the rendered tree and the specs and push them (retrying if someone pushed
    first; git pushes are never forced)."""
    with reported_errors():
        result = service.apply(platform, repo, branch=branch, message=message, diffs=diff,
                               allow_offboarding=allow_offboarding, force=force)
    show(result.plan, diff, verb="changed")
    if result.forced:
        err.print(f"[yellow]warning:[/] --force overwrote the repository's specs of "
                  f"{escape(', '.join(result.forced))}", soft_wrap=True)
    if result.commit is None:
        return
    tries = f" after {result.attempts} attempts" if result.attempts > 1 else ""
    out.print(f"[green]pushed[/] {result.commit[:12]} to {result.plan.repo} "
              f"{result.plan.branch}{tries}")


def show(result: Plan, diff: bool, verb: str = "would change") -> None:
    """Drift first, each message with its diff beside it (and only there), then the
    objects table and the other files' diffs, all on stdout."""
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    for report in result.drift:
        what = "deleted by hand" if report.deleted else "edited by hand"
        out.print(f"[yellow]drift:[/] {escape(report.path)} was {what}; "
                  f"apply would overwrite it{':' if diff else ''}", soft_wrap=True)
        if diff:
            _print_diff(report.diff)
    if not result.has_changes:
        out.print(f"no changes: {result.repo} {result.branch} is up to date")
        return
    print_table(objects_table(result))
    if diff:
        drifted = {report.path for report in result.drift}
        for file_diff in result.diffs:
            if file_diff.path not in drifted:
                _print_diff(file_diff.diff)
    out.print(f"{len(result.objects)} objects, {result.files} files {verb}")
    if result.removals.need_consent and verb != "changed":
        err.print(f"[yellow]warning:[/] apply would remove {escape(str(result.removals))}; "
                  "it will refuse unless given --allow-offboarding", soft_wrap=True)


def objects_table(result: Plan) -> Table:
    table = Table(title=f"Changes to {result.repo} ({result.branch})")
    for column in ("team", "action", "kind", "name"):
        table.add_column(column)
    style = {"added": "green", "changed": "yellow", "removed": "red"}
    for team, changes in groupby(result.objects, key=lambda c: c.team):
        for change in changes:
            table.add_row(team, f"[{style[change.action]}]{change.action}[/]", change.kind,
                          change.name)
    return table


def _print_diff(text: str) -> None:
    # Colour on a terminal only: piped output stays a plain patch that `git apply` reads.
    if out.is_terminal:
        out.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))
    else:
        out.print(text, end="", markup=False, highlight=False, soft_wrap=True)
