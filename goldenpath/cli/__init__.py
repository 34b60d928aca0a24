"""Command-line front door. Thin: every command calls a use case in goldenpath.services."""

from __future__ import annotations

from goldenpath.cli import (  # noqa: F401  (registers commands)
    gitops_cmds,
    platform_cmds,
    scaffold_cmds,
    serve_cmds,
    store_cmds,
)
from goldenpath.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
