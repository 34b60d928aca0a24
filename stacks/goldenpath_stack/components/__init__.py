"""One ComponentResource per part of a cluster's Bundle: the platform-wide objects, and
per team its tenancy, delivery (Argo CD) and observability objects."""

from goldenpath_stack.components.base import BundleArgs, BundleComponent, resource_name
from goldenpath_stack.components.cluster import ClusterPlatform, ClusterPlatformArgs
from goldenpath_stack.components.delivery import TeamDelivery, TeamDeliveryArgs
from goldenpath_stack.components.observability import TeamObservability, TeamObservabilityArgs
from goldenpath_stack.components.tenancy import TeamTenancy, TeamTenancyArgs

__all__ = [
    "BundleArgs",
    "BundleComponent",
    "ClusterPlatform",
    "ClusterPlatformArgs",
    "TeamDelivery",
    "TeamDeliveryArgs",
    "TeamObservability",
    "TeamObservabilityArgs",
    "TeamTenancy",
    "TeamTenancyArgs",
    "resource_name",
]
