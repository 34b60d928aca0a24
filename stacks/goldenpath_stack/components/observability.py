"""TeamObservability: one team's monitoring objects on this cluster (ServiceMonitors,
SLO and alert rules, Alertmanager routing, dashboards; the observability concern)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from goldenpath_stack.components.base import BundleArgs, BundleComponent
from goldenpath_stack.plan import concerns_of

CONCERNS = concerns_of("observability")


@dataclass(frozen=True, kw_only=True)
class TeamObservabilityArgs(BundleArgs):
    team: str

    def __post_init__(self) -> None:
        self._require_team(self.team, "TeamObservability")
        self._require_concerns(CONCERNS, "TeamObservability")


class TeamObservability(BundleComponent):
    TYPE = "goldenpath:observability:TeamObservability"

    def __init__(self, name: str, args: TeamObservabilityArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
