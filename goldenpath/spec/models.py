"""Pydantic models of the two spec kinds, ``Platform`` and ``Team``.

These models are the public contract of DESIGN.md: field names are camelCase in YAML,
unknown fields are refused (``extra="forbid"``), and scalars are strict (a string is not
silently turned into a number). Rules that need more than one file (cross-references)
live in :mod:`goldenpath.spec.crossref`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator
from pydantic.alias_generators import to_camel

from goldenpath.spec.types import (
    CIDR,
    DNSLabel,
    DNSSubdomain,
    HttpsURL,
    KubernetesVersion,
    LabelValue,
    Percent,
    Quantity,
    SecretKey,
    SlackChannel,
    Subject,
)

API_VERSION = "goldenpath.dev/v1alpha1"


class SpecModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


class Metadata(SpecModel):
    name: DNSLabel


# --- Platform -------------------------------------------------------------------------


class GitopsSpec(SpecModel):
    repo_url: str = Field(alias="repoURL", min_length=1)
    target_revision: str = Field(default="main", min_length=1)


class ArgoCDSpec(SpecModel):
    namespace: DNSLabel = "argocd"


class ServiceReposSpec(SpecModel):
    url_template: str = "https://git.example.com/{team}/{service}.git"

    @field_validator("url_template")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            value.format(team="t", service="s")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may use only the placeholders {team} and {service}") from None
        if "{team}" not in value or "{service}" not in value:
            raise ValueError("must contain both {team} and {service}")
        return value


class Capacity(SpecModel):
    cpu: Quantity
    memory: Quantity


class ClusterSpec(SpecModel):
    name: DNSLabel
    server: HttpsURL
    environments: list[DNSLabel] = Field(min_length=1)
    capacity: Capacity | None = None


AccessLevel = Literal["edit", "view", "none"]


class AccessSpec(SpecModel):
    owners: AccessLevel = "edit"
    members: AccessLevel = "edit"
    viewers: AccessLevel = "view"


class EnvironmentSpec(SpecModel):
    name: DNSLabel
    # "privileged" is deliberately not offered: a tenant namespace that admits privileged
    # pods is a way out of the namespace.
    pod_security: Literal["baseline", "restricted"] = "restricted"
    access: AccessSpec = AccessSpec()


class QuotaSpec(SpecModel):
    """Per-namespace quota. Every field is optional so teams and environments override
    only what they name; unset fields fall back to the platform defaults, then to
    :data:`goldenpath.spec.resolve.BUILTIN_QUOTA`."""

    cpu: Quantity | None = None
    memory: Quantity | None = None
    limits_cpu: Quantity | None = None
    limits_memory: Quantity | None = None
    storage: Quantity | None = None
    ephemeral_storage: Quantity | None = None
    pods: PositiveInt | None = None
    services: int | None = Field(default=None, ge=0)
    secrets: int | None = Field(default=None, ge=0)
    configmaps: int | None = Field(default=None, ge=0, alias="configmaps")
    persistentvolumeclaims: int | None = Field(default=None, ge=0, alias="persistentvolumeclaims")


class ContainerDefaults(SpecModel):
    cpu_request: Quantity = "100m"
    memory_request: Quantity = "128Mi"
    cpu_limit: Quantity = "500m"
    memory_limit: Quantity = "512Mi"
    max_cpu: Quantity = "4"
    max_memory: Quantity = "8Gi"


class DefaultsSpec(SpecModel):
    quota: QuotaSpec = QuotaSpec()
    container: ContainerDefaults = ContainerDefaults()


class PlatformNetworkSpec(SpecModel):
    ingress_namespaces: list[DNSLabel] = ["ingress-nginx"]
    monitoring_namespaces: list[DNSLabel] = ["monitoring"]
    #: the IngressClass of every Ingress goldenpath renders for ``services[].ingress``
    ingress_class_name: DNSSubdomain = "nginx"


class ObservabilitySpec(SpecModel):
    service_monitor_labels: dict[str, str] = {"release": "kube-prometheus-stack"}
    rule_labels: dict[str, str] = {"release": "kube-prometheus-stack"}
    alertmanager_config_labels: dict[str, str] = {"release": "kube-prometheus-stack"}
    dashboards_namespace: DNSLabel = "monitoring"
    #: every alert's runbook_url is ``<runbookBaseURL>/<alertname>``
    runbook_base_url: str = Field(
        default="https://runbooks.example.com/goldenpath",
        alias="runbookBaseURL",
        pattern=r"^https?://\S+[^/]$",
    )


class TemplateRef(SpecModel):
    name: DNSLabel
    path: str = Field(min_length=1)


#: The oldest Kubernetes goldenpath renders for: ValidatingAdmissionPolicy (the tenant
#: edge policy) is served from 1.28 on (v1beta1; v1 from 1.30).
MIN_KUBERNETES = (1, 28)


class PlatformBody(SpecModel):
    kubernetes_version: KubernetesVersion
    admins: list[Subject] = Field(min_length=1)
    gitops: GitopsSpec
    argocd: ArgoCDSpec = ArgoCDSpec()
    service_repos: ServiceReposSpec = ServiceReposSpec()
    clusters: list[ClusterSpec] = Field(min_length=1)
    environments: list[EnvironmentSpec] = Field(min_length=1)
    defaults: DefaultsSpec = DefaultsSpec()
    network: PlatformNetworkSpec = PlatformNetworkSpec()
    observability: ObservabilitySpec = ObservabilitySpec()
    templates: list[TemplateRef] = []

    @field_validator("kubernetes_version")
    @classmethod
    def _supported(cls, value: str) -> str:
        major, minor = (int(part) for part in value.split("."))
        if (major, minor) < MIN_KUBERNETES:
            oldest = ".".join(str(p) for p in MIN_KUBERNETES)
            raise ValueError(
                f"is older than {oldest}, the oldest Kubernetes goldenpath supports: "
                "tenant Services and Ingresses are checked by a ValidatingAdmissionPolicy, "
                f"which older versions do not serve (and {value} is long out of support)"
            )
        return value


class Platform(SpecModel):
    api_version: Literal["goldenpath.dev/v1alpha1"]
    kind: Literal["Platform"]
    metadata: Metadata
    spec: PlatformBody


# --- Team -----------------------------------------------------------------------------


class TeamNetworkSpec(SpecModel):
    allow_from_teams: list[DNSLabel] = []
    egress_cidrs: list[CIDR] = Field(default=[], alias="egressCIDRs")


class SecretRef(SpecModel):
    name: DNSSubdomain
    key: SecretKey


class SlackSpec(SpecModel):
    channel: SlackChannel
    secret_ref: SecretRef


class PagerDutySpec(SpecModel):
    secret_ref: SecretRef
    #: environments whose pages go to PagerDuty; None: every environment of the team
    environments: list[DNSLabel] | None = None


class AlertingSpec(SpecModel):
    slack: SlackSpec | None = None
    pagerduty: PagerDutySpec | None = None


class EnvironmentOverride(SpecModel):
    quota: QuotaSpec = QuotaSpec()


class ResourcesSpec(SpecModel):
    cpu: Quantity
    memory: Quantity


class SLOSpec(SpecModel):
    availability: Percent | None = None
    latency_p99_ms: PositiveInt | None = Field(default=None, alias="latencyP99Ms")


class IngressSpec(SpecModel):
    host: DNSSubdomain
    #: environments that serve ``host``; None: every environment of the team
    environments: list[DNSLabel] | None = None


class ServiceSpec(SpecModel):
    name: DNSLabel
    template: DNSLabel
    port: int = Field(default=8080, ge=1, le=65535)
    replicas: dict[DNSLabel, PositiveInt] = {}
    resources: ResourcesSpec | None = None
    slo: SLOSpec | None = None
    ingress: IngressSpec | None = None
    parameters: dict[str, str] = {}


class TeamBody(SpecModel):
    display_name: str = Field(min_length=1, max_length=120)
    cost_center: LabelValue
    owners: list[Subject] = Field(min_length=1)
    members: list[Subject] = []
    viewers: list[Subject] = []
    environments: list[DNSLabel] = Field(min_length=1)
    quota: QuotaSpec = QuotaSpec()
    environment_overrides: dict[DNSLabel, EnvironmentOverride] = {}
    network: TeamNetworkSpec = TeamNetworkSpec()
    alerting: AlertingSpec = AlertingSpec()
    services: list[ServiceSpec] = []


class Team(SpecModel):
    api_version: Literal["goldenpath.dev/v1alpha1"]
    kind: Literal["Team"]
    metadata: Metadata
    spec: TeamBody

    @property
    def name(self) -> str:
        return self.metadata.name
