"""What every goldenpath component shares: declaring Bundle objects as its children.

A component receives Bundle objects (never renders any), declares each as a
pulumi-kubernetes resource with ``parent=self`` and the stack's explicit provider, and
registers its namespaces and object counts as outputs. Namespaces are declared first and
recorded in a registry shared by all components of the stack, so that every namespaced
object, whichever component holds it, ``depends_on`` its Namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from goldenpath.render import Resource
from goldenpath_stack import kinds
from goldenpath_stack.plan import summarise

#: namespace name -> its Namespace resource, filled as components are built
NamespaceRegistry = dict[str, pulumi.Resource]


@dataclass(frozen=True, kw_only=True)
class BundleArgs:
    """Arguments common to every component: its objects and how to provision them."""

    objects: Sequence[Resource]
    provider: k8s.Provider
    namespaces: NamespaceRegistry = field(default_factory=dict)
    #: environments whose Namespaces are created with ``protect=True``
    protected_environments: frozenset[str] = frozenset({"prod"})

    def _require_concerns(self, allowed: frozenset[str], component: str) -> None:
        for obj in self.objects:
            if obj.concern not in allowed:
                raise ValueError(f"{component} provisions {sorted(allowed)} objects, "
                                 f"not {obj.concern!r} ({obj.ref})")

    def _require_team(self, team: str | None, component: str) -> None:
        for obj in self.objects:
            if obj.coords.team != team:
                raise ValueError(f"{component} of {team!r} got {obj.ref} "
                                 f"of team {obj.coords.team!r}")


class BundleComponent(pulumi.ComponentResource):
    """Declares its Bundle objects as children; subclasses name the type and the args."""

    TYPE = "goldenpath:bundle:BundleComponent"

    def __init__(self, name: str, args: BundleArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self._args = args
        namespaces = [o for o in args.objects if o.kind == "Namespace"]
        others = [o for o in args.objects if o.kind != "Namespace"]
        #: the declared resources, in declaration order (namespaces first)
        self.declared: list[pulumi.CustomResource] = [
            *(self._declare_namespace(o) for o in namespaces),
            *(self._declare(o) for o in others),
        ]
        #: namespaces created and object counts, as registered outputs
        self.summary = summarise(args.objects)
        self.register_outputs(self.summary)

    def _declare_namespace(self, obj: Resource) -> pulumi.CustomResource:
        # Deleting a production namespace deletes every workload and volume in it; with
        # protect, removing it from the spec fails `pulumi up` until an admin unprotects.
        protect = obj.coords.environment in self._args.protected_environments
        resource = kinds.create(resource_name(obj), obj.body, self._options(protect=protect))
        self._args.namespaces[obj.name] = resource
        return resource

    def _declare(self, obj: Resource) -> pulumi.CustomResource:
        namespace = self._args.namespaces.get(obj.namespace or "")
        # A namespace not in the registry is not ours (argocd, monitoring): it exists already.
        depends_on = [namespace] if namespace is not None else []
        return kinds.create(resource_name(obj), obj.body, self._options(depends_on=depends_on))

    def _options(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.provider, **extra)


def resource_name(obj: Resource) -> str:
    """The Pulumi name of an object: ``namespace/name`` or ``name``. With the type token
    (apiVersion and kind) it makes the URN, so it derives from the object's identity
    and stays stable as long as the object does."""
    return f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
