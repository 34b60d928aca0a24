"""Schema guardrail: every built-in object is valid against the Kubernetes OpenAPI schema
of the platform's ``kubernetesVersion`` (kubernetes-validate's strict schemas).

kubernetes-validate re-reads its multi-megabyte definitions file on every call; here the
validators are built once per (version, apiVersion, kind). Each kind has two over the
same schema: jsonschema-rs (compiled) answers "valid?" for every object, about a hundred
times faster than the pure-Python validator, which makes a full render's 66,000 checks a
fraction of a second; an object it does not pass (or cannot take: a value no JSON
holds) is validated again by python-jsonschema, whose errors are the guardrail's
messages (``field.path: message``), so what a violation says does not depend on the fast
path. The two agree on validity (a test runs both over the example platform and broken
objects of every kind); where they could not, the Python validator decides: an object
is passed only if jsonschema-rs passes it. Custom resources of the groups goldenpath
renders are validated against their upstream CRD schemas in the test suite, not at run
time: the CRDs are not shipped with goldenpath.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema
import jsonschema_rs
import kubernetes_validate
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

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


class _Kind:
    """The two validators of one kind's schema: compiled for the verdict, Python for the
    errors."""

    def __init__(self, schema: dict[str, Any], directory: str, version: str) -> None:
        self._fast = jsonschema_rs.validator_for(
            schema, registry=_fast_definitions(directory, version), validate_formats=False,
            retriever=_never_fetch)
        registry: Registry[Any] = Resource.from_contents(schema) @ Registry()
        registry = _definitions(directory, version) @ registry
        # formats are annotations in draft 2020-12: neither validator asserts them
        self._python = jsonschema.Draft202012Validator(schema, registry=registry)

    def errors(self, body: dict[str, Any]) -> tuple[str, ...]:
        try:
            if self._fast.is_valid(body):
                return ()
        except (ValueError, TypeError, OverflowError):
            pass  # a value jsonschema-rs cannot take (an int beyond 64 bits): Python decides
        return tuple(
            f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
            for error in self._python.iter_errors(body)
        )


@cache
def _validator(version: str, api_version: str, kind: str) -> _Kind | None:
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
    return _Kind(schema, directory, version)


@cache
def _definitions_contents(directory: str, version: str) -> dict[str, Any]:
    contents: dict[str, Any] = kv_utils.schema_contents(f"{directory}/_definitions.json",
                                                         version)
    return contents


@cache
def _definitions(directory: str, version: str) -> Resource[Any]:
    return Resource.from_contents(_definitions_contents(directory, version))


@cache
def _fast_definitions(directory: str, version: str) -> jsonschema_rs.Registry:
    """The definitions every kind's schema refers to, by their ``$id``; nothing is ever
    fetched (a reference they do not resolve fails the validator's build)."""
    contents = _definitions_contents(directory, version)
    return jsonschema_rs.Registry([(contents["$id"], contents)], retriever=_never_fetch)


def _never_fetch(uri: str) -> Any:
    raise LookupError(f"{uri}: schemas are read from kubernetes-validate only")


def schema_errors(body: dict[str, Any], version: str) -> list[str] | None:
    """Schema errors of one object, or ``None`` when no schema knows its kind."""
    validator = _validator(version, str(body.get("apiVersion")), str(body.get("kind")))
    return None if validator is None else list(validator.errors(body))


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
