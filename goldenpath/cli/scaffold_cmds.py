"""``goldenpath new-service`` and ``goldenpath update-service``: the golden paths."""

from __future__ import annotations

from typing import Annotated

import typer

from goldenpath.cli.app import (
    DEFAULT_PLATFORM,
    EXIT_CHANGES,
    EXIT_ERROR,
    PlatformOption,
    app,
    err,
    out,
    reported_errors,
)
from goldenpath.errors import TemplateError
from goldenpath.services import scaffold as service
from goldenpath.settings import Settings, get_settings

TeamOption = Annotated[str, typer.Option("--team", "-t", help="The team that owns the service.")]
NameOption = Annotated[str, typer.Option("--name", "-n", help="The service name (DNS label).")]


def _settings(platform: str) -> Settings:
    return get_settings().model_copy(update={"platform_dir": platform})


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise TemplateError(f"--param {pair!r}: expected key=value")
        params[key] = value
    return params


@app.command("new-service")
def new_service(
    team: TeamOption,
    name: NameOption,
    template: Annotated[str, typer.Option("--template", help="A template of the platform.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="A template parameter, key=value; repeatable.")] = None,
    platform: PlatformOption = DEFAULT_PLATFORM,
) -> None:
    """Create a service repository from a golden path, push it, add it to the team spec."""
    with reported_errors():
        made = service.new_service(_settings(str(platform)), team, name, template,
                                   parse_params(param or []))
    out.print(f"created {made.team}/{made.service} from {made.template} "
              f"{made.version[:12]}: pushed {made.commit[:12]} to {made.repository}")
    out.print(f"added to {made.spec_file}; the next apply renders its namespaces' objects")


def _moved(result: service.UpdateResult) -> str:
    template = f"its template ({result.recorded[:12]} -> {result.latest[:12]})"
    if not result.spec_moved:
        return template
    if result.recorded == result.latest:
        return "its spec"
    return f"{template} and its spec"


@app.command("update-service")
def update_service(
    team: TeamOption,
    name: NameOption,
    check: Annotated[bool, typer.Option(
        "--check", help="Only compare; exit 2 when the service is behind its template "
        "or its spec.")] = False,
    platform: PlatformOption = DEFAULT_PLATFORM,
) -> None:
    """Bring template and spec changes into a service as a 3-way merge on a branch."""
    with reported_errors():
        result = service.update_service(_settings(str(platform)), team, name, check=check)
    if result.status == "current":
        out.print(f"{team}/{name} is current with its template ({result.latest[:12]}) "
                  "and its spec")
        return
    files = "\n".join(f"  {path}" for path in result.changed)
    if result.status == "behind":
        out.print(f"{team}/{name} is behind {_moved(result)}; files that would change:"
                  f"\n{files}")
        raise typer.Exit(EXIT_CHANGES)
    if result.status == "pending":
        out.print(f"branch {result.branch} holds this update already; left as it is "
                  f"(merge it into main):\n{files}")
        return
    out.print(f"pushed branch {result.branch} with the template update:\n{files}")
    if result.conflicts:
        listed = "\n".join(f"  {path}" for path in result.conflicts)
        err.print(f"[bold red]conflicts[/] (left with markers for a person):\n{listed}",
                  soft_wrap=True)
        raise typer.Exit(EXIT_ERROR)
