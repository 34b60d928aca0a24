"""ClusterPlatform: the platform-owned objects of one cluster (``team is None`` in the
Bundle, whatever concern rendered them): the tenant ClusterRoles, the admin AppProject,
platform-wide monitoring objects."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from goldenpath_stack.components.base import BundleArgs, BundleComponent


@dataclass(frozen=True, kw_only=True)
class ClusterPlatformArgs(BundleArgs):
    cluster: str

    def __post_init__(self) -> None:
        self._require_team(None, "ClusterPlatform")
        for obj in self.objects:
            if obj.coords.cluster != self.cluster:
                raise ValueError(f"ClusterPlatform of {self.cluster!r} got {obj.ref}")


class ClusterPlatform(BundleComponent):
    TYPE = "goldenpath:cluster:ClusterPlatform"

    def __init__(self, name: str, args: ClusterPlatformArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
