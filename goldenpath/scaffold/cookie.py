"""The cookiecutter adapter: render a template directory with a fixed context, no prompts.

Cookiecutter's own state (replay files, the clone cache) goes into a throwaway config
next to the output, never into the user's home directory, so parallel runs do not race.
Every cookiecutter failure, hook failures included, becomes a TemplateError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cookiecutter.exceptions import CookiecutterException
from cookiecutter.main import cookiecutter
from jinja2 import TemplateError as JinjaError

from goldenpath.errors import TemplateError


def render(template: Path, context: dict[str, Any], output_dir: Path) -> Path:
    """Render ``template`` into a new directory under ``output_dir``; return that directory.

    Hooks run: callers pass only templates from the platform's list.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    config = output_dir / ".cookiecutter-config.yaml"
    state = output_dir / ".cookiecutter-state"
    # JSON is YAML, and it quotes paths safely.
    config.write_text(json.dumps({"replay_dir": str(state / "replay"),
                                  "cookiecutters_dir": str(state / "cookiecutters")}))
    try:
        project = cookiecutter(str(template), no_input=True, extra_context=context,
                               output_dir=str(output_dir), config_file=str(config),
                               accept_hooks=True)
    except (CookiecutterException, JinjaError, OSError, ValueError) as err:
        raise TemplateError(f"cannot render template {template.name}: {err}") from err
    return Path(project)
