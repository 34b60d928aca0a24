"""The typer application and what every command shares: options, output, exit codes.

Exit codes: 0 success, 1 spec, policy or operational error (message on stderr),
2 "changes pending" for commands that compare (``plan``, ``update-service --check``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from goldenpath.errors import GoldenpathError

app = typer.Typer(
    name="goldenpath",
    help="Render platform specs into Kubernetes tenancy, Argo CD and observability.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2

PlatformOption = Annotated[
    Path,
    typer.Option(
        "--platform", "-p", help="Platform directory (platform.yaml + teams/).", file_okay=False
    ),
]
DEFAULT_PLATFORM = Path("platform")

_F = TypeVar("_F", bound=Callable[..., object])


@contextmanager
def reported_errors() -> Iterator[None]:
    """Print a GoldenpathError to stderr and exit 1; let anything else crash loudly."""
    try:
        yield
    except GoldenpathError as error:
        # escape: messages hold "[guardrail]" and values that rich would read as markup
        err.print(f"[bold red]error:[/] {escape(str(error))}", markup=True, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
