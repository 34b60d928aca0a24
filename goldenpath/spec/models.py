"""Pydantic models of the two spec kinds, ``Platform`` and ``Team``.

These models are the public contract of DESIGN.md: field names are camelCase in YAML,
unknown fields are refused (``extra="forbid"``), and scalars are strict (a string is not
silently turned into a number). Rules that need more than one file (cross-references)
live in :mod:`goldenpath.spec.crossref`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from goldenpath.spec.refname import branch_problem
from goldenpath.spec.types import (
    CIDR,
    AnyCIDR,
    AvailabilityObjective,
    ByteSize,
    DNSLabel,
    DNSSubdomain,
    HttpsURL,
    KubernetesVersion,
    LabelValue,
    Quantity,
    RunbookURL,
    SecretKey,
    SlackChannel,
    Subject,
)

API_VERSION = "goldenpath.dev/v1alpha1"
#: environment names protected unless the platform says otherwise (``protected``)
PRODUCTION_NAMES = frozenset({"prod", "production"})

#: Hard ceilings on tenant numbers and lists, whatever the platform allows: they keep
#: every value in range of Kubernetes and of the arithmetic on it. The platform's own
#: bounds (``spec.limits``) are lower and checked in :mod:`goldenpath.spec.bounds`.
MAX_COUNT = 1_000_000
MAX_REPLICAS = 10_000
MAX_LATENCY_MS = 3_600_000
MAX_SUBJECTS = 100
MAX_LIST = 500
MAX_PARAMETERS = 64
MAX_EGRESS_CIDRS = 100

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[int, Field(ge=1, le=MAX_COUNT)]
ParameterKey = Annotated[str, StringConstraints(min_length=1, max_length=63)]
ParameterValue = Annotated[str, StringConstraints(max_length=1024)]


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

    @field_validator("target_revision")
    @classmethod
    def _branch(cls, value: str) -> str:
        # apply pushes to it: a name git would misread (-x, HEAD) must not get that far
        problem = branch_problem(value)
        if problem is not None:
            raise ValueError(f"{problem}; targetRevision is the branch apply pushes to")
        return value


class ArgoCDSpec(SpecModel):
    namespace: DNSLabel = "argocd"


_PLACEHOLDER = re.compile(r"\{(?:team|service)\}")
_LABEL_CHARS = re.compile(r"[a-z0-9-]*")


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
        # Between two placeholders, a character no DNS label has: else "a" + "b-c" and
        # "a-b" + "c" would make one URL, and one team's project allow another's repository.
        for between in _PLACEHOLDER.split(value)[1:-1]:
            if _LABEL_CHARS.fullmatch(between):
                raise ValueError("must keep {team} and {service} apart with a character "
                                 "names cannot contain, such as '/' or '.'")
        return value


class Capacity(SpecModel):
    cpu: Quantity
    memory: Quantity


class ClusterNetworks(SpecModel):
    """Where the cluster's own addresses are: tenants' egress CIDRs may not reach them
    (see :mod:`goldenpath.spec.reach`) unless ``spec.network.egressAllowedCIDRs`` lists a
    range inside them."""

    pod_cidrs: list[AnyCIDR] = Field(default=[], alias="podCIDRs")
    service_cidrs: list[AnyCIDR] = Field(default=[], alias="serviceCIDRs")
    node_cidrs: list[AnyCIDR] = Field(default=[], alias="nodeCIDRs")
    api_server_cidrs: list[AnyCIDR] = Field(default=[], alias="apiServerCIDRs")


class ClusterSpec(SpecModel):
    name: DNSLabel
    server: HttpsURL
    environments: list[DNSLabel] = Field(min_length=1)
    capacity: Capacity | None = None
    networks: ClusterNetworks = ClusterNetworks()


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
    #: a production environment: apply removes none of its namespaces (a team offboarded
    #: or leaving it) without --allow-offboarding; unset, environments named like
    #: production (PRODUCTION_NAMES) are
    protected: bool | None = None

    @property
    def is_protected(self) -> bool:
        return self.name in PRODUCTION_NAMES if self.protected is None else self.protected


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
    pods: PositiveCount | None = None
    services: Count | None = None
    secrets: Count | None = None
    configmaps: Count | None = Field(default=None, alias="configmaps")
    persistentvolumeclaims: Count | None = Field(default=None, alias="persistentvolumeclaims")


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
    #: the ranges teams may name in egressCIDRs; none by default, so none may be named
    egress_allowed_cidrs: list[AnyCIDR] = Field(default=[], alias="egressAllowedCIDRs")
    #: the IngressClass of every Ingress goldenpath renders for ``services[].ingress``
    ingress_class_name: DNSSubdomain = "nginx"


class TeamGrant(SpecModel):
    """Bounds an admin raised (or lowered) for one team, over ``spec.limits``."""

    max_quota: QuotaSpec = QuotaSpec()
    max_services: PositiveCount | None = None
    max_objects: PositiveCount | None = None


class LimitsSpec(SpecModel):
    """What a team may ask for without an admin. Unset ``maxQuota`` fields fall back to
    :data:`goldenpath.spec.resolve.BUILTIN_MAX_QUOTA`."""

    #: the largest quota of one team in one environment (one namespace)
    max_quota: QuotaSpec = QuotaSpec()
    max_services_per_team: PositiveCount = 50
    #: rendered objects of one team, every environment and cluster together
    max_objects_per_team: PositiveCount = 2000
    #: compact JSON bytes of any rendered object. Client-side apply (Argo CD's default)
    #: copies the object into the last-applied-configuration annotation, and all of an
    #: object's annotations together are limited to 256 KiB: the ceiling leaves 32 KiB
    #: for the other annotations
    max_object_bytes: int = Field(default=128 * 1024, ge=1024, le=224 * 1024)
    grants: dict[DNSLabel, TeamGrant] = {}


class ScrapeLimits(SpecModel):
    """Per-scrape limits the Prometheus enforces on every ServiceMonitor, PodMonitor and
    Probe, tenants' included (``enforced*`` fields of the Prometheus resource): a scrape
    over a limit fails, so a tenant's exporter cannot flood the shared Prometheus. The
    defaults leave room for the stack's own kubelet and cAdvisor scrapes."""

    sample_limit: int = Field(default=200_000, ge=1, le=10_000_000)
    target_limit: int = Field(default=1_000, ge=1, le=1_000_000)
    label_limit: int = Field(default=64, ge=1, le=1_000)
    label_name_length_limit: int = Field(default=256, ge=1, le=65_536)
    label_value_length_limit: int = Field(default=4_096, ge=1, le=1_048_576)
    keep_dropped_targets: int = Field(default=100, ge=1, le=1_000_000)
    body_size_limit: ByteSize = "64MB"


class ObservabilitySpec(SpecModel):
    service_monitor_labels: dict[str, str] = {"release": "kube-prometheus-stack"}
    #: default: ``serviceMonitorLabels`` (see ``_follow_service_monitor_labels``)
    rule_labels: dict[str, str] = {"release": "kube-prometheus-stack"}
    alertmanager_config_labels: dict[str, str] = {"release": "kube-prometheus-stack"}
    dashboards_namespace: DNSLabel = "monitoring"
    #: every alert's runbook_url is ``<runbookBaseURL>/<alertname>``
    runbook_base_url: RunbookURL = Field(
        default="https://runbooks.example.com/goldenpath", alias="runbookBaseURL")
    scrape_limits: ScrapeLimits = ScrapeLimits()

    @model_validator(mode="before")
    @classmethod
    def _follow_service_monitor_labels(cls, data: object) -> object:
        """One Prometheus selects the ServiceMonitors, the rules and (through its
        Alertmanager) the routes: unless set, rules and routes carry the labels the
        ServiceMonitors do, so a platform that names its release once is picked up."""
        if not isinstance(data, dict):
            return data
        monitors = next((data[k] for k in ("serviceMonitorLabels", "service_monitor_labels")
                         if k in data), None)
        if not isinstance(monitors, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in monitors.items()):
            return data  # refused as serviceMonitorLabels alone, not three times
        unset = [alias for alias, name in (("ruleLabels", "rule_labels"),
                                           ("alertmanagerConfigLabels",
                                            "alertmanager_config_labels"))
                 if alias not in data and name not in data]
        return {**data, **dict.fromkeys(unset, monitors)}


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
    limits: LimitsSpec = LimitsSpec()

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
    allow_from_teams: list[DNSLabel] = Field(default=[], max_length=MAX_LIST)
    egress_cidrs: list[CIDR] = Field(default=[], alias="egressCIDRs",
                                   max_length=MAX_EGRESS_CIDRS)


class SecretRef(SpecModel):
    name: DNSSubdomain
    key: SecretKey = Field(max_length=253)  # Kubernetes' limit on a Secret data key


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
    availability: AvailabilityObjective | None = None
    latency_p99_ms: int | None = Field(default=None, alias="latencyP99Ms", ge=1,
                                       le=MAX_LATENCY_MS)


class IngressSpec(SpecModel):
    host: DNSSubdomain
    #: environments that serve ``host``; None: every environment of the team
    environments: list[DNSLabel] | None = None


class ServiceSpec(SpecModel):
    name: DNSLabel
    template: DNSLabel
    port: int = Field(default=8080, ge=1, le=65535)
    replicas: dict[DNSLabel, Annotated[int, Field(ge=1, le=MAX_REPLICAS)]] = Field(
        default={}, max_length=MAX_LIST)
    resources: ResourcesSpec | None = None
    slo: SLOSpec | None = None
    ingress: IngressSpec | None = None
    parameters: dict[ParameterKey, ParameterValue] = Field(default={},
                                                           max_length=MAX_PARAMETERS)


class TeamBody(SpecModel):
    display_name: str = Field(min_length=1, max_length=120)
    cost_center: LabelValue
    owners: list[Subject] = Field(min_length=1, max_length=MAX_SUBJECTS)
    members: list[Subject] = Field(default=[], max_length=MAX_SUBJECTS)
    viewers: list[Subject] = Field(default=[], max_length=MAX_SUBJECTS)
    environments: list[DNSLabel] = Field(min_length=1, max_length=MAX_LIST)
    quota: QuotaSpec = QuotaSpec()
    environment_overrides: dict[DNSLabel, EnvironmentOverride] = Field(default={},
                                                                        max_length=MAX_LIST)
    network: TeamNetworkSpec = TeamNetworkSpec()
    alerting: AlertingSpec = AlertingSpec()
    #: a hard ceiling; the platform's spec.limits.maxServicesPerTeam is the real bound
    services: list[ServiceSpec] = Field(default=[], max_length=MAX_LIST)


class Team(SpecModel):
    api_version: Literal["goldenpath.dev/v1alpha1"]
    kind: Literal["Team"]
    metadata: Metadata
    spec: TeamBody

    @property
    def name(self) -> str:
        return self.metadata.name
