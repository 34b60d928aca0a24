"""The templates a platform offers and the inputs each one declares.

A template's ``cookiecutter.json`` carries a private ``_goldenpath`` block::

    "_goldenpath": {"version": "1.0.0", "kind": "service",
                    "parameters": {"queue": {"help": "...", "required": true, "pattern": "^...$"}}}

Only the keys under ``parameters`` may be set with ``--param``; everything else in the
context comes from the platform and team specs. Parameter values are a tenant's: they are
bounded here (count, name, length, no control characters) before a template's own
``pattern``, and the renderer treats them as data (:mod:`.cookie`); patterns are the
template's second line, for values it places inside quotes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.errors import NotFound, TemplateError
from goldenpath.scaffold.context import RESERVED
from goldenpath.spec.models import TemplateRef
from goldenpath.spec.resolve import PlatformSpec

MAX_PARAMETERS = 32
MAX_VALUE_LENGTH = 1024
PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
    if PARAMETER_NAME.fullmatch(key) is None or key in RESERVED:
        raise TemplateError(f"template {template!r}: parameter {key!r}: a parameter name is "
                            "lower-case letters, digits and '_', and not one of goldenpath's "
                            f"own keys ({', '.join(sorted(RESERVED))})")
    if not isinstance(value, dict):
        raise TemplateError(f"template {template!r}: parameter {key!r} must be a mapping")
    return Parameter(key, str(value.get("help", "")), bool(value.get("required", False)),
                     str(value.get("pattern", "")))


def check_parameters(template: TemplateInfo, params: dict[str, Any]) -> None:
    """Refuse unknown, missing, oversized or malformed parameters, naming every problem
    at once. Values are never echoed whole: a tenant's input is bounded in errors too."""
    if len(params) > MAX_PARAMETERS:
        raise TemplateError(f"template {template.name!r}: {len(params)} parameters given; "
                            f"at most {MAX_PARAMETERS}")
    problems = [f"unknown parameter {_short(key)}" for key in sorted(params)
                if key not in template.parameters]
    for param in template.parameters.values():
        value = params.get(param.name)
        if value is None:
            if param.required:
                problems.append(f"parameter {param.name!r} is required ({param.help})")
        else:
            problems += _value_problems(param, value)
    if problems:
        declared = ", ".join(sorted(template.parameters)) or "none"
        raise TemplateError(f"template {template.name!r} (parameters: {declared}): "
                            + "; ".join(problems))


def _value_problems(param: Parameter, value: Any) -> list[str]:
    where = f"parameter {param.name!r}"
    if not isinstance(value, str):
        return [f"{where}: must be a string, not {type(value).__name__}"]
    if len(value) > MAX_VALUE_LENGTH:
        return [f"{where}: {len(value)} characters; at most {MAX_VALUE_LENGTH}"]
    if _CONTROL.search(value):
        return [f"{where}: {_short(value)} holds a control character (newline, tab, ...)"]
    if param.pattern and re.fullmatch(param.pattern, value) is None:
        return [f"{where}: {_short(value)} does not match {param.pattern}"]
    return []


def _short(value: str) -> str:
    return repr(value) if len(value) <= 80 else repr(value[:77] + "...")


def parameters_schema(template: TemplateInfo) -> dict[str, Any]:
    """The template's parameters as a JSON Schema (draft 2020-12) object, stating the same
    bounds :func:`check_parameters` enforces, so a portal can build its form from it."""
    properties: dict[str, Any] = {}
    for param in template.parameters.values():
        prop: dict[str, Any] = {"type": "string", "maxLength": MAX_VALUE_LENGTH}
        if param.help:
            prop["description"] = param.help
        if param.pattern:
            prop["pattern"] = param.pattern
        properties[param.name] = prop
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "additionalProperties": False, "maxProperties": MAX_PARAMETERS,
            "required": sorted(p.name for p in template.parameters.values() if p.required),
            "properties": dict(sorted(properties.items()))}
