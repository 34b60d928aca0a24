"""The typer application and what every command shares: options, output, exit codes.

Exit codes, the same for every command (like ``terraform plan -detailed-exitcode``):
0 success; 1 any error, a usage error (unknown option, missing or bad argument)
included, with the message on stderr; 2 only "changes pending" from the commands that
compare (``plan``, ``update-service --check``). So a pipeline can tell "something to do"
from "something went wrong" by the code alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement

from goldenpath import __version__
from goldenpath.errors import GoldenpathError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class _Group(typer.core.TyperGroup):
    """The command group, with click's usage errors (exit 2) turned into errors (exit 1):
    2 means "changes pending" here."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _usage_errors_exit_1():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _usage_errors_exit_1():  # a subcommand's own options are parsed in here
            return super().invoke(ctx)


@contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except typer.TyperException as error:
        # typer's usage errors (unknown option, missing or bad value) carry exit code 2
        if getattr(error, "exit_code", None) == EXIT_CHANGES:
            error.exit_code = EXIT_ERROR
        raise


app = typer.Typer(
    name="goldenpath",
    cls=_Group,
    help="Render platform specs into Kubernetes tenancy, Argo CD and observability.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _print_version(value: bool) -> None:
    if value:
        out.print(f"goldenpath {__version__}", markup=False)
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", help="Print goldenpath's version and exit.", is_eager=True,
        callback=_print_version)] = False,
) -> None:
    """Render platform specs into Kubernetes tenancy, Argo CD and observability."""


PlatformOption = Annotated[
    Path,
    typer.Option(
        "--platform", "-p", help="Platform directory (platform.yaml + teams/).", file_okay=False,
        envvar="GOLDENPATH_PLATFORM_DIR",
    ),
]
DEFAULT_PLATFORM = Path("platform")

@contextmanager
def reported_errors() -> Iterator[None]:
    """Print a GoldenpathError to stderr and exit 1; let anything else crash loudly."""
    try:
        yield
    except GoldenpathError as error:
        # escape: messages hold "[guardrail]" and values that rich would read as markup
        err.print(f"[bold red]error:[/] {escape(str(error))}", markup=True, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None


def print_table(table: RenderableType) -> None:
    """Print a table on stdout. Piped, it is as wide as its content needs, so no name is
    cut short with "…" for want of a terminal's width (a terminal still wraps it)."""
    if out.is_terminal:
        out.print(table)
        return
    natural = Measurement.get(out, out.options.update_width(1 << 16), table).maximum
    # print() never goes beyond the console's width: a console of the table's own width
    wide = Console(file=out.file, width=max(out.width, natural), highlight=False)
    wide.print(table)
