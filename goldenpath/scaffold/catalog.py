"""The templates a platform offers and the inputs each one declares.

A template's ``cookiecutter.json`` carries a private ``_goldenpath`` block::

    "_goldenpath": {"version": "1.0.0", "kind": "service",
                    "parameters": {"queue": {"help": "...", "required": true, "pattern": "^...$"}}}

Only the keys under ``parameters`` may be set with ``--param``; everything else in the
context comes from the platform and team specs. Patterns keep values that end up inside
YAML and Python source from breaking out of their quotes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.errors import NotFound, TemplateError
from goldenpath.spec.models import TemplateRef
from goldenpath.spec.resolve import PlatformSpec


@dataclass(frozen=True)
class Parameter:
    name: str
    help: str = ""
    required: bool = False
    pattern: str = ""


@dataclass(frozen=True)
class TemplateInfo:
    """One template of the platform's list, resolved to a directory on disk."""

    name: str
    ref_path: str
    path: Path
    declared_version: str
    kind: str
    parameters: dict[str, Parameter] = field(default_factory=dict)


def find_template(spec: PlatformSpec, name: str, root: Path) -> TemplateInfo:
    """The platform's template ``name``; only listed templates are ever rendered."""
    refs = {ref.name: ref for ref in spec.platform.spec.templates}
    if name not in refs:
        known = ", ".join(sorted(refs)) or "none"
        raise NotFound(f"template {name!r} is not in the platform's list (known: {known})",
                       kind="template", name=name)
    return load_template(refs[name], root)


def load_template(ref: TemplateRef, root: Path) -> TemplateInfo:
    path = (root / ref.path).resolve()
    config = path / "cookiecutter.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"template {ref.name!r}: {config} does not exist",
                       kind="template", name=ref.name) from None
    except (OSError, ValueError) as err:
        raise TemplateError(f"template {ref.name!r}: cannot read {config}: {err}") from err
    meta = data.get("_goldenpath", {})
    if not isinstance(meta, dict):
        raise TemplateError(f"template {ref.name!r}: _goldenpath must be a mapping")
    params = {key: _parameter(ref.name, key, value)
              for key, value in meta.get("parameters", {}).items()}
    return TemplateInfo(ref.name, ref.path, path, str(meta.get("version", "0")),
                        str(meta.get("kind", "service")), params)


def _parameter(template: str, key: str, value: Any) -> Parameter:
    if not isinstance(value, dict):
        raise TemplateError(f"template {template!r}: parameter {key!r} must be a mapping")
    return Parameter(key, str(value.get("help", "")), bool(value.get("required", False)),
                     str(value.get("pattern", "")))


def check_parameters(template: TemplateInfo, params: dict[str, str]) -> None:
    """Refuse unknown, missing or malformed parameters, naming every problem at once."""
    problems = [f"unknown parameter {key!r}" for key in sorted(params)
                if key not in template.parameters]
    for param in template.parameters.values():
        value = params.get(param.name)
        if value is None:
            if param.required:
                problems.append(f"parameter {param.name!r} is required ({param.help})")
        elif param.pattern and re.fullmatch(param.pattern, value) is None:
            problems.append(f"parameter {param.name!r}: {value!r} does not match {param.pattern}")
    if problems:
        declared = ", ".join(sorted(template.parameters)) or "none"
        raise TemplateError(f"template {template.name!r} (parameters: {declared}): "
                            + "; ".join(problems))
