"""TeamTenancy: one team's namespaces, quotas, limit ranges, network policies, RBAC and
service accounts on this cluster (the tenancy, network and rbac concerns)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from goldenpath_stack.components.base import BundleArgs, BundleComponent
from goldenpath_stack.plan import concerns_of

CONCERNS = concerns_of("tenancy")


@dataclass(frozen=True, kw_only=True)
class TeamTenancyArgs(BundleArgs):
    team: str

    def __post_init__(self) -> None:
        self._require_team(self.team, "TeamTenancy")
        self._require_concerns(CONCERNS, "TeamTenancy")


class TeamTenancy(BundleComponent):
    TYPE = "goldenpath:tenancy:TeamTenancy"

    def __init__(self, name: str, args: TeamTenancyArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
