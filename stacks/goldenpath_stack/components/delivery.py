"""TeamDelivery: one team's Argo CD objects on this cluster (its AppProject and the
Applications that point at its service repositories; the argocd concern)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from goldenpath_stack.components.base import BundleArgs, BundleComponent
from goldenpath_stack.plan import concerns_of

CONCERNS = concerns_of("delivery")


@dataclass(frozen=True, kw_only=True)
class TeamDeliveryArgs(BundleArgs):
    team: str

    def __post_init__(self) -> None:
        self._require_team(self.team, "TeamDelivery")
        self._require_concerns(CONCERNS, "TeamDelivery")


class TeamDelivery(BundleComponent):
    TYPE = "goldenpath:delivery:TeamDelivery"

    def __init__(self, name: str, args: TeamDeliveryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
