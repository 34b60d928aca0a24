"""goldenpath's own manifests (``deploy/``): every object of both overlays and the Argo CD
objects is valid Kubernetes 1.31 (custom resources against their upstream CRDs, strictly),
every pod passes Pod Security restricted, and what ties the objects together (selectors,
probe paths, settings, Secrets, hooks, commands) points at something that exists."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
from typer.main import get_command

from api.main import create_app
from goldenpath.cli import app as cli
from goldenpath.settings import _SECRET, ENV_PREFIX, Settings
from tests.crds import assert_valid_custom_resource
from tests.deploy.conftest import (
    DEPLOY,
    IMAGE,
    NAMESPACE,
    OVERLAYS,
    SERVER,
    Objects,
    one,
    pods,
    selects,
)
from tests.templates.psa import restricted_violations

CORE_GROUPS = {"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1"}
#: settings holding credentials or naming the identity provider: Secrets only
FROM_SECRETS = {f"{ENV_PREFIX}{name.upper()}" for name in _SECRET} | {
    "GOLDENPATH_GITOPS_USERNAME", "GOLDENPATH_OIDC_ISSUER", "GOLDENPATH_OIDC_AUDIENCE"}


def _container(objects: Objects) -> dict[str, Any]:
    container: dict[str, Any] = one(objects, "Deployment")["spec"]["template"]["spec"][
        "containers"][0]
    return container


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _config(objects: Objects) -> dict[str, str]:
    data: dict[str, str] = one(objects, "ConfigMap")["data"]
    return data


@pytest.mark.parametrize("name", [*OVERLAYS, "argocd"])
def test_every_object_is_valid(built: dict[str, Objects], name: str) -> None:
    assert built[name]
    for obj in built[name]:
        if obj["apiVersion"] in CORE_GROUPS:
            kubernetes_validate.validate(obj, "1.31", strict=True)
        else:
            assert_valid_custom_resource(obj)


def test_each_overlay_holds_what_it_should(built: dict[str, Objects]) -> None:
    common = {"ServiceAccount", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
              "NetworkPolicy", "ServiceMonitor", "PrometheusRule"}
    assert {o["kind"] for o in built["production"]} == common | {"Job", "Ingress"}
    assert {o["kind"] for o in built["embedded"]} == common | {"PersistentVolumeClaim"}
    for name in OVERLAYS:
        assert {o["metadata"]["namespace"] for o in built[name]} == {NAMESPACE}
        assert not [o for o in built[name] if o["kind"] == "Secret"]
        for pod in pods(built[name]):
            assert {c["image"] for c in pod["spec"]["containers"]} == {IMAGE}


@pytest.mark.parametrize("name", OVERLAYS)
def test_pods_pass_pod_security_restricted(built: dict[str, Objects], name: str) -> None:
    for template in pods(built[name]):
        pod = template["spec"]
        assert restricted_violations(pod) == []
        assert pod["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["runAsUser"] > 0
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]]


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_state_directory_is_the_writable_volume(built: dict[str, Objects],
                                                    name: str) -> None:
    """The root filesystem is read-only: the state dir goldenpath is told to use is the
    mounted volume (a PersistentVolumeClaim in embedded mode, where it holds SQLite)."""
    pod = one(built[name], "Deployment")["spec"]["template"]["spec"]
    state_dir = _config(built[name])["GOLDENPATH_STATE_DIR"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == state_dir]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    kind = "persistentVolumeClaim" if name == "embedded" else "emptyDir"
    assert set(volume) == {"name", kind}
    if name == "embedded":
        claim = one(built[name], "PersistentVolumeClaim")
        assert volume[kind]["claimName"] == claim["metadata"]["name"]


def test_replicas_and_rollout(built: dict[str, Objects]) -> None:
    production = one(built["production"], "Deployment")["spec"]
    assert production["replicas"] >= 2
    assert production["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    spread = production["template"]["spec"]["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {"kubernetes.io/hostname",
                                                  "topology.kubernetes.io/zone"}
    for constraint in spread:
        assert constraint["labelSelector"]["matchLabels"] == SERVER
    embedded = one(built["embedded"], "Deployment")["spec"]
    assert embedded["replicas"] == 1
    assert embedded["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("name", OVERLAYS)
def test_selectors_meet_their_pods(built: dict[str, Objects], name: str) -> None:
    objects = built[name]
    deployment = one(objects, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == SERVER
    service = one(objects, "Service")
    assert selects(service["spec"]["selector"], labels)
    assert selects(one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
                   labels)
    monitor = one(objects, "ServiceMonitor")["spec"]
    assert selects(monitor["selector"]["matchLabels"], service["metadata"]["labels"])
    # the migration Job's pods are not behind the Service
    for job in [o for o in objects if o["kind"] == "Job"]:
        assert not selects(service["spec"]["selector"],
                           job["spec"]["template"]["metadata"]["labels"])


def _api_paths() -> set[str]:
    """The paths the API serves, from its OpenAPI document."""
    return set(create_app(Settings()).openapi()["paths"])


@pytest.mark.parametrize("name", OVERLAYS)
def test_probes_and_scrapes_hit_real_routes(built: dict[str, Objects], name: str) -> None:
    container = _container(built[name])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/v1/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v1/healthz"
    paths = _api_paths()
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = container[probe]["httpGet"]
        assert get["port"] in ports and get["path"] in paths
    (endpoint,) = one(built[name], "ServiceMonitor")["spec"]["endpoints"]
    assert endpoint["path"] in paths
    assert endpoint["port"] in {p["name"] for p in one(built[name], "Service")["spec"]["ports"]}
    assert container["args"] == ["serve", "--host", "0.0.0.0", "--port", str(ports["http"])]
    assert "serve" in get_command(cli).commands  # type: ignore[attr-defined]
    assert set(container["resources"]) == {"requests", "limits"}


@pytest.mark.parametrize("name", OVERLAYS)
def test_configuration_is_real_settings_and_secrets_are_references(
        built: dict[str, Objects], name: str) -> None:
    """Every ConfigMap key is a setting goldenpath reads (a misspelt one would be ignored
    silently) and none is a secret; every secret setting comes from a secretKeyRef."""
    fields = {f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields}
    config = _config(built[name])
    assert set(config) <= fields, set(config) - fields
    assert not set(config) & FROM_SECRETS
    for template in pods(built[name]):
        for container in template["spec"]["containers"]:
            for env in container.get("env", []):
                assert env["name"] in fields, env["name"]
                if env["name"] in FROM_SECRETS:
                    assert set(env) == {"name", "valueFrom"}
                    assert set(env["valueFrom"]) == {"secretKeyRef"}
    Settings.model_validate({key.removeprefix(ENV_PREFIX).lower(): value
                             for key, value in config.items()})


def test_production_takes_its_dependencies_from_secrets(built: dict[str, Objects]) -> None:
    env = _env(_container(built["production"]))
    refs = {name: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
            for name, e in env.items()}
    assert refs == {
        "GOLDENPATH_ADMIN_TOKEN": ("goldenpath-admin", "token"),
        "GOLDENPATH_DATABASE_URL": ("goldenpath-database", "url"),
        "GOLDENPATH_GITOPS_USERNAME": ("goldenpath-git", "username"),
        "GOLDENPATH_GITOPS_TOKEN": ("goldenpath-git", "token"),
        "GOLDENPATH_OIDC_ISSUER": ("goldenpath-oidc", "issuer"),
        "GOLDENPATH_OIDC_AUDIENCE": ("goldenpath-oidc", "audience"),
    }
    assert not any(e["valueFrom"]["secretKeyRef"].get("optional") for e in env.values())
    config = _config(built["production"])
    assert config["GOLDENPATH_GITOPS_REPO"].startswith("https://")
    assert config["GOLDENPATH_SERVICE_REPOS"] == "platform"
    # embedded: SQLite and local repositories; no database or git credentials at all
    embedded = _env(_container(built["embedded"]))
    assert not {"GOLDENPATH_DATABASE_URL", "GOLDENPATH_GITOPS_TOKEN"} & set(embedded)
    assert "GOLDENPATH_GITOPS_REPO" not in _config(built["embedded"])


def test_production_never_serves_the_example_platform(built: dict[str, Objects]) -> None:
    """The image carries the example platform for embedded mode, and the API falls back to
    the platform directory while the control repository holds no specs: production points
    it at a directory that does not exist, so an unseeded repository is an error, never
    the example's admins and teams."""
    production = _config(built["production"])["GOLDENPATH_PLATFORM_DIR"]
    embedded = _config(built["embedded"])["GOLDENPATH_PLATFORM_DIR"]
    assert embedded == "/app/platform"
    assert production != embedded
    state = production.removeprefix(_config(built["production"])["GOLDENPATH_STATE_DIR"] + "/")
    assert state != production, "outside the (empty at start) state volume"


def test_the_ingress_reaches_the_service(built: dict[str, Objects]) -> None:
    ingress = one(built["production"], "Ingress")["spec"]
    service = one(built["production"], "Service")
    ports = {p["name"] for p in service["spec"]["ports"]}
    (rule,) = ingress["rules"]
    assert [t["hosts"] for t in ingress["tls"]] == [[rule["host"]]]
    for path in rule["http"]["paths"]:
        backend = path["backend"]["service"]
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["name"] in ports


def test_the_migration_runs_before_the_rollout(built: dict[str, Objects]) -> None:
    job = one(built["production"], "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "PreSync"
    assert set(annotations["argocd.argoproj.io/hook-delete-policy"].split(",")) == {
        "BeforeHookCreation", "HookSucceeded"}
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["args"] == ["migrate"]
    assert "migrate" in get_command(cli).commands  # type: ignore[attr-defined]
    # PreSync runs before the revision's other objects exist: the Job refers only to what
    # exists beforehand (the Secret, the namespace's default ServiceAccount)
    assert "serviceAccountName" not in pod and "envFrom" not in container
    assert _env(container) == {"GOLDENPATH_DATABASE_URL":
                               _env(_container(built["production"]))["GOLDENPATH_DATABASE_URL"]}


def _policies_for(objects: Objects, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [o["spec"] for o in objects if o["kind"] == "NetworkPolicy"
            and selects(o["spec"]["podSelector"]["matchLabels"], labels)]


def _peer(peer: dict[str, Any]) -> str:
    if "ipBlock" in peer:
        return f"ip {peer['ipBlock']['cidr']}"
    namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
    pods_of = peer.get("podSelector", {}).get("matchLabels", {})
    return f"{namespace} {sorted(pods_of.items())}"


def _egress(policies: list[dict[str, Any]]) -> set[tuple[str, int]]:
    found = set()
    for policy in policies:
        for rule in policy.get("egress", []):
            assert rule.get("to") and rule.get("ports"), "an egress rule allows everything"
            found |= {(_peer(p), port["port"]) for p in rule["to"] for port in rule["ports"]}
    return found


DNS = {("kube-system [('k8s-app', 'kube-dns')]", 53)}
OIDC = {("ip 203.0.113.0/24", 443)}
GIT = {("ip 198.51.100.0/24", 443)}
POSTGRES = {("postgres [('app.kubernetes.io/name', 'postgresql')]", 5432)}


@pytest.mark.parametrize("name", OVERLAYS)
def test_network_reach_is_what_goldenpath_needs(built: dict[str, Objects], name: str) -> None:
    objects = built[name]
    server = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    policies = _policies_for(objects, server)
    assert all(set(p["policyTypes"]) <= {"Ingress", "Egress"} for p in policies)
    assert any("Ingress" in p["policyTypes"] for p in policies)
    assert any("Egress" in p["policyTypes"] for p in policies)
    ingress = [rule for p in policies for rule in p.get("ingress", [])]
    assert ingress and all(rule.get("from") for rule in ingress)
    assert {_peer(peer) for rule in ingress for peer in rule["from"]} == {
        "ingress-nginx []", "monitoring []"}
    expected = DNS | OIDC | (GIT | POSTGRES if name == "production" else set())
    assert _egress(policies) == expected
    for job in [o for o in objects if o["kind"] == "Job"]:
        labels = job["spec"]["template"]["metadata"]["labels"]
        assert _egress(_policies_for(objects, labels)) == DNS | POSTGRES


def test_argocd_delivers_the_production_overlay(built: dict[str, Objects]) -> None:
    application = one(built["argocd"], "Application")["spec"]
    project = one(built["argocd"], "AppProject")
    assert application["project"] == project["metadata"]["name"]
    assert (DEPLOY.parent / application["source"]["path"]).resolve() == (
        DEPLOY / "overlays" / "production").resolve()
    assert application["source"]["repoURL"] in project["spec"]["sourceRepos"]
    assert application["destination"] in project["spec"]["destinations"]
    assert application["destination"]["namespace"] == NAMESPACE
    labels = application["syncPolicy"]["managedNamespaceMetadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # the project lets Argo CD sync every kind the overlays hold, and no other
    allowed = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    held = {(o["apiVersion"].rpartition("/")[0], o["kind"])
            for name in OVERLAYS for o in built[name]}
    assert allowed == held
