"""From a Kubernetes manifest to the pulumi-kubernetes resource that applies it.

Built-in kinds get their typed class (``pulumi_kubernetes.core.v1.Namespace``,
``pulumi_kubernetes.rbac.v1.RoleBinding``, ...), found from apiVersion and kind alone,
so a renderer that starts emitting a new built-in kind needs no change here. Custom
kinds (and built-ins this pulumi-kubernetes does not know) become a
``pulumi_kubernetes.apiextensions.CustomResource``; the provider applies any manifest by
its apiVersion and kind, so nothing is lost either way.
"""

from __future__ import annotations

import importlib
import inspect
import re
from functools import cache
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource

#: top-level manifest fields every class sets itself from apiVersion and kind
_IDENTITY = ("apiVersion", "kind")
#: fields ``CustomResource`` takes as arguments; anything else needs ``_Manifest``
_CUSTOM_FIELDS = frozenset({*_IDENTITY, "metadata", "spec"})
#: API groups whose first label is not the pulumi_kubernetes module name
_IRREGULAR_MODULES = {"internal.apiserver.k8s.io": "apiserverinternal"}


def create(name: str, body: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Declare ``body`` as a Pulumi resource named ``name``, with the best class for it."""
    typed = typed_class(str(body["apiVersion"]), str(body["kind"]))
    if typed is not None:
        kwargs = _typed_kwargs(typed, body)
        if kwargs is not None:
            return typed(name, opts=opts, **kwargs)
    return _custom(name, body, opts)


@cache
def typed_class(api_version: str, kind: str) -> type[pulumi.CustomResource] | None:
    """The typed pulumi-kubernetes class of a built-in kind, or None."""
    group, _, version = api_version.rpartition("/")
    if not _is_builtin_group(group):
        return None
    module_name = _IRREGULAR_MODULES.get(group, group.split(".")[0] or "core")
    try:
        module = importlib.import_module(f"pulumi_kubernetes.{module_name}.{version}")
    except ImportError:
        return None
    cls = getattr(module, kind, None)
    if isinstance(cls, type) and issubclass(cls, pulumi.CustomResource):
        return cls
    return None


def _is_builtin_group(group: str) -> bool:
    """Kubernetes reserves the core group, unqualified groups and ``*.k8s.io``; any other
    group (``argoproj.io``, ``monitoring.coreos.com``) belongs to a CRD."""
    return "." not in group or group.endswith(".k8s.io")


def _typed_kwargs(cls: type[pulumi.CustomResource], body: dict[str, Any]) -> dict[str, Any] | None:
    """Constructor arguments for ``cls`` (camelCase fields as snake_case), or None when the
    manifest has a field the typed class cannot carry."""
    params = _parameters(cls)
    kwargs = {_snake(key): value for key, value in body.items() if key not in _IDENTITY}
    if not kwargs.keys() <= params:
        return None
    return kwargs


_PARAMETERS: dict[type[pulumi.CustomResource], frozenset[str]] = {}


def _parameters(cls: type[pulumi.CustomResource]) -> frozenset[str]:
    if cls not in _PARAMETERS:
        # The generated classes dispatch their overloaded __init__ to _internal_init.
        init = getattr(cls, "_internal_init", cls.__init__)
        names = frozenset(inspect.signature(init).parameters)
        _PARAMETERS[cls] = names - {"opts", "resource_name", "__props__"}
    return _PARAMETERS[cls]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _custom(name: str, body: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    if body.keys() <= _CUSTOM_FIELDS:
        return CustomResource(
            name,
            api_version=body["apiVersion"],
            kind=body["kind"],
            metadata=body.get("metadata"),
            spec=body.get("spec"),
            opts=opts,
        )
    return _Manifest(name, body, opts)


class _Manifest(pulumi.CustomResource):
    """A custom object with top-level fields besides ``spec`` (``CustomResource`` only
    takes ``metadata`` and ``spec``). Same type token as ``CustomResource``, so switching
    between the two never changes a URN."""

    def __init__(self, name: str, body: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(f"kubernetes:{body['apiVersion']}:{body['kind']}", name, dict(body), opts)
