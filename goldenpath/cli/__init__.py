"""Command-line front door. Thin: every command calls a use case in goldenpath.services."""

from __future__ import annotations

from goldenpath.cli import gitops_cmds, platform_cmds, scaffold_cmds  # noqa: F401  (registers commands)
from goldenpath.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
