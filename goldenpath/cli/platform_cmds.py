"""``goldenpath validate`` and ``goldenpath render``."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from goldenpath.cli.app import (
    DEFAULT_PLATFORM,
    EXIT_ERROR,
    PlatformOption,
    app,
    err,
    out,
    print_table,
    reported_errors,
)
from goldenpath.policy.report import Report
from goldenpath.render import Bundle
from goldenpath.services import platform as service
from goldenpath.settings import get_settings


@app.command()
def validate(
    platform: PlatformOption = DEFAULT_PLATFORM,
    full: Annotated[bool, typer.Option(
        "--full", help="Check every team, also those that passed under their current "
        "inputs.")] = False,
) -> None:
    """Load the specs, render them and run every guardrail; exit 1 on any error. Teams
    whose inputs did not change since they last passed are not checked again."""
    with reported_errors():
        checked = service.validate_all(platform, get_settings(), full=full)
    spec, report = checked.spec, checked.report
    print_table(report_table(report))
    for warning in checked.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if not report.passed:
        for violation in report.violations:
            err.print(f"[red]violation:[/] {escape(str(violation))}", soft_wrap=True)
        err.print(f"[bold red]error:[/] {len(report.violations)} guardrail violation(s)")
        raise typer.Exit(EXIT_ERROR)
    out.print(f"[green]ok[/]: {len(spec.team_names)} teams, all guardrails pass"
              + _reused(len(checked.reused)))


def _reused(count: int) -> str:
    if not count:
        return ""
    return (f" ({count} team{'s' if count != 1 else ''} unchanged since they last passed, "
            "not checked again; --full checks every team)")


@app.command()
def render(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write the tree to.", file_okay=False)
    ],
    platform: PlatformOption = DEFAULT_PLATFORM,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", min=1,
        help="Processes that serialise and write the files (default: one per core for a "
             "large platform).")] = None,
) -> None:
    """Render the platform into a directory: the tree `apply` commits, for review."""
    with reported_errors():
        with err.status("Loading specs, rendering and checking guardrails..."):
            checked = service.load_and_check(platform, get_settings())
        # the writer forks only from a process with one thread: no status spinner now,
        # and a progress display refreshed by its callback, not by a thread of its own
        used = service.writers_for(checked, workers)
        with _progress() as progress:
            task = progress.add_task("Writing files", total=None)
            count = service.write_tree(checked, out_dir, _updates(progress, task), used)
    print_table(summary_table(checked.bundle))
    teams = len(checked.spec.team_names)
    processes = f" ({used} processes)" if used > 1 else ""
    out.print(f"wrote {count} files for {teams} teams to {escape(str(out_dir))}{processes}")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        auto_refresh=False,
    )


def _updates(progress: Progress, task: TaskID) -> Callable[[int], None]:
    """A progress callback that redraws at most ten times a second."""
    last = [0.0]

    def update(done: int) -> None:
        progress.update(task, completed=done)
        now = time.monotonic()
        if now - last[0] >= 0.1:
            last[0] = now
            progress.refresh()

    return update


def report_table(report: Report) -> Table:
    table = Table(title="Guardrails")
    table.add_column("guardrail")
    table.add_column("checks")
    table.add_column("objects", justify="right")
    table.add_column("result")
    for result in report.results:
        verdict = "[green]pass[/]" if result.passed else f"[red]FAIL ({len(result.violations)})[/]"
        table.add_row(result.name, result.description, str(result.covered), verdict)
    return table


def summary_table(bundle: Bundle) -> Table:
    """Objects per team and environment (platform-owned objects under ``(platform)``)."""
    counts = Counter((r.coords.team or "(platform)", r.coords.environment or "-") for r in bundle)
    envs = sorted({env for _, env in counts})
    table = Table(title=f"Rendered {len(bundle)} objects")
    table.add_column("team")
    for env in envs:
        table.add_column(env, justify="right")
    table.add_column("total", justify="right")
    for team in sorted({team for team, _ in counts}):
        row = [counts.get((team, env), 0) for env in envs]
        table.add_row(team, *(str(n) if n else "" for n in row), str(sum(row)))
    return table
