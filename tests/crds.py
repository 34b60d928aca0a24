"""Validate custom resources against the upstream CRD schemas in ../shared/schemas/crds.

The CRDs are test data read in place, never copied into the repository. Kubernetes
*prunes* unknown fields of a structural schema instead of rejecting them, which would hide
a misspelt field; so this validator is stricter than the API server: wherever a schema
lists ``properties`` and does not preserve unknown fields, other fields are an error.
"""

from __future__ import annotations

import copy
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRD_DIR = Path(
    os.environ.get(
        "GOLDENPATH_CRD_DIR", Path(__file__).resolve().parents[2] / "shared" / "schemas" / "crds"
    )
)


class _Loader(yaml.SafeLoader):
    """PyYAML cannot read a bare ``=`` scalar (YAML 1.1 'value' tag); read it as text."""


_Loader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


@cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict JSON schema, for every CRD file in CRD_DIR."""
    if not CRD_DIR.is_dir():
        raise FileNotFoundError(f"CRD schemas not found at {CRD_DIR}; set GOLDENPATH_CRD_DIR")
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=_Loader)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
            out[(f"{group}/{version['name']}", kind)] = schema
    return out


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        for value in schema.values():
            _strict(value)
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        for item in schema:
            _strict(item)
    return schema


def schema_of(api_version: str, kind: str) -> dict[str, Any]:
    """The (strict) schema of one custom resource kind."""
    return _schemas()[(api_version, kind)]


def known_kinds() -> set[tuple[str, str]]:
    return set(_schemas())


def crd_errors(body: dict[str, Any]) -> list[str]:
    """Every schema error of one custom resource; [] when it is valid."""
    schema = _schemas().get((body.get("apiVersion", ""), body.get("kind", "")))
    if schema is None:
        return [f"no CRD schema for {body.get('apiVersion')}/{body.get('kind')} in {CRD_DIR}"]
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(body)
    ]


def assert_valid_custom_resource(body: dict[str, Any]) -> None:
    errors = crd_errors(body)
    name = body.get("metadata", {}).get("name")
    assert not errors, f"{body.get('kind')} {name} fails its CRD schema:\n" + "\n".join(errors)
