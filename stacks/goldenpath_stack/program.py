"""The Pulumi program: one stack provisions the Bundle objects of one cluster.

``build`` loads the platform with the same use case the CLI runs (``load_and_check``:
spec validation, rendering, guardrails), keeps the objects of the configured cluster,
and declares them through the components, with one explicit Kubernetes provider. It
renders nothing itself, so the Pulumi path and the GitOps path cannot disagree.
A goldenpath error ends the program with exactly the text the CLI prints after
``error:``; ``pulumi.RunError`` makes Pulumi show it without a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from goldenpath.errors import GoldenpathError
from goldenpath.services.platform import load_and_check
from goldenpath.spec.models import PRODUCTION_NAMES
from goldenpath_stack.components import (
    BundleArgs,
    BundleComponent,
    ClusterPlatform,
    ClusterPlatformArgs,
    TeamDelivery,
    TeamDeliveryArgs,
    TeamObservability,
    TeamObservabilityArgs,
    TeamTenancy,
    TeamTenancyArgs,
)
from goldenpath_stack.components.base import NamespaceRegistry
from goldenpath_stack.config import StackConfig
from goldenpath_stack.plan import (
    ComponentPlan,
    cluster_objects,
    plan,
    summarise,
    team_summaries,
)

#: the Pulumi name of the stack's one Kubernetes provider (part of every child's state)
PROVIDER_NAME = "kubernetes"


@dataclass(frozen=True)
class ClusterStack:
    """What ``build`` declared: the provider, the components in build order, the outputs."""

    provider: k8s.Provider
    components: list[BundleComponent]
    outputs: dict[str, Any]


def build(config: StackConfig) -> ClusterStack:
    """Load the platform and declare every object of ``config.cluster``."""
    plans, protected = load_plans(config)
    return provision(plans, replace(config, protected_environments=protected))


def provision(plans: list[ComponentPlan], config: StackConfig) -> ClusterStack:
    """Declare the planned components with one explicit provider; export the summary."""
    provider = k8s.Provider(
        PROVIDER_NAME, kubeconfig=config.kubeconfig, context=config.kube_context
    )
    registry: NamespaceRegistry = {}
    components = [_component(p, config, provider, registry) for p in plans]
    outputs = {
        "cluster": config.cluster,
        "teams": team_summaries(plans),
        "platform": summarise(o for p in plans if p.team is None for o in p.objects),
    }
    for key, value in outputs.items():
        pulumi.export(key, value)
    return ClusterStack(provider, components, outputs)


def load_plans(config: StackConfig) -> tuple[list[ComponentPlan], frozenset[str]]:
    """The component plans of the configured cluster, and the environments whose
    namespaces it protects; a goldenpath error becomes a ``RunError`` with the same text
    the CLI prints."""
    try:
        checked = load_and_check(config.platform_dir)
        protected = config.protected(checked.spec)
        return plan(cluster_objects(checked.bundle, config.cluster)), protected
    except GoldenpathError as error:
        raise pulumi.RunError(str(error)) from error


#: part -> the team component provisioning it, and its args type
_TEAM_COMPONENTS: dict[str, tuple[type[BundleComponent], type[BundleArgs]]] = {
    "tenancy": (TeamTenancy, TeamTenancyArgs),
    "delivery": (TeamDelivery, TeamDeliveryArgs),
    "observability": (TeamObservability, TeamObservabilityArgs),
}


def _component(p: ComponentPlan, config: StackConfig, provider: k8s.Provider,
               registry: NamespaceRegistry) -> BundleComponent:
    common: dict[str, Any] = {
        "objects": p.objects,
        "provider": provider,
        "namespaces": registry,
        # unresolved (provision called without build): the spec's own default
        "protected_environments": (PRODUCTION_NAMES if config.protected_environments is None
                                   else config.protected_environments),
    }
    if p.team is None:
        args = ClusterPlatformArgs(cluster=config.cluster, **common)
        return ClusterPlatform(config.cluster, args)
    component, args_type = _TEAM_COMPONENTS[p.part]
    return component(p.team, args_type(team=p.team, **common))  # type: ignore[call-arg]


__all__ = ["ClusterStack", "StackConfig", "build", "load_plans", "provision"]
