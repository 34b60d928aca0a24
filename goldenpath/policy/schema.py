"""Schema guardrail: every built-in object is valid against the Kubernetes OpenAPI schema
of the platform's ``kubernetesVersion`` (kubernetes-validate's strict schemas).

kubernetes-validate re-reads its multi-megabyte definitions file on every call; here the
compiled validator is cached per (version, apiVersion, kind), which makes validating tens
of thousands of objects practical, and an object validated before in this process (a
plan checks mostly what the last one did) is answered from its errors then, kept by its
full content (:mod:`goldenpath.memo`). Custom resources of the groups goldenpath renders are
validated against their upstream CRD schemas in the test suite, not at run time: the CRDs
are not shipped with goldenpath.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

from goldenpath.memo import ContentMemo
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle
from goldenpath.spec.resolve import PlatformSpec

#: API groups of custom resources goldenpath renders; checked against CRDs in tests.
CUSTOM_GROUPS = frozenset({"argoproj.io", "monitoring.coreos.com", "grafana.integreatly.org"})


class UnsupportedVersion(ValueError):
    pass


def supported_versions() -> list[str]:
    return sorted(
        {kv_utils.major_minor(v) for v in kv_utils.all_versions()},
        key=lambda v: tuple(int(p) for p in v.split(".")),
    )


@cache
def _validator(version: str, api_version: str, kind: str) -> jsonschema.Validator | None:
    if version not in supported_versions():
        raise UnsupportedVersion(
            f"kubernetesVersion {version} has no schemas in kubernetes-validate "
            f"{kubernetes_validate.__version__} (supported: {', '.join(supported_versions())})"
        )
    directory = f"kubernetes-json-schema/v{version}.0-local-strict"
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv_utils.schema_contents(f"{directory}/{kind.lower()}-{api}.json", version)
    except FileNotFoundError:
        return None
    registry: Registry[Any] = Resource.from_contents(schema) @ Registry()
    registry = _definitions(directory, version) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


@cache
def _definitions(directory: str, version: str) -> Resource[Any]:
    return Resource.from_contents(
        kv_utils.schema_contents(f"{directory}/_definitions.json", version)
    )


#: the errors of objects validated before, by version and content (see goldenpath.memo)
_KNOWN: ContentMemo[tuple[str, ...] | None] = ContentMemo(
    32 << 20, lambda errors: sum(map(len, errors or ())))


def schema_errors(body: dict[str, Any], version: str) -> list[str] | None:
    """Schema errors of one object, or ``None`` when no schema knows its kind."""
    found = _KNOWN.get(version, body, lambda b: _schema_errors(b, version))
    return None if found is None else list(found)


def _schema_errors(body: dict[str, Any], version: str) -> tuple[str, ...] | None:
    validator = _validator(version, str(body.get("apiVersion")), str(body.get("kind")))
    if validator is None:
        return None
    return tuple(
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(body)
    )


def check(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    version = spec.platform.spec.kubernetes_version
    if version not in supported_versions():
        findings.fail(
            "platform",
            f"kubernetesVersion {version} is not supported; "
            f"choose one of {', '.join(supported_versions())}",
        )
        return
    for resource in bundle:
        group = resource.api_version.rpartition("/")[0]
        if group in CUSTOM_GROUPS:
            continue
        errors = schema_errors(resource.body, version)
        findings.cover()
        if errors is None:
            findings.fail(
                resource,
                f"no Kubernetes {version} schema for {resource.api_version} {resource.kind}",
            )
        for error in errors or ():
            findings.fail(resource, error)
