"""Every template, generated with several parameter sets, is a working, deployable project:
its own tests pass, its manifests (base and every overlay, built by ``kubectl kustomize``)
are valid Kubernetes 1.31 objects that pass Pod Security restricted and the platform's
conventions, and its catalog entry, Dockerfile and CI workflow say what the issue asks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import kubernetes_validate
import pytest
import yaml

from goldenpath.render import metrics, rbac, render
from goldenpath.render.meta import LABEL_TEAM
from tests.kustomize import kustomize
from tests.templates.conftest import CASES, Generated
from tests.templates.psa import restricted_violations

pytestmark = pytest.mark.parametrize("name", sorted(CASES))
BACKSTAGE_ID = "backstage.io/kubernetes-id"


def _deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    return deployment


def _pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod: dict[str, Any] = _deployment(objects)["spec"]["template"]["spec"]
    return pod


def test_the_projects_own_tests_pass(generated: dict[str, Generated], name: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                            cwd=generated[name].path, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b\d+ passed\b", result.stdout)


def test_one_overlay_per_team_environment(generated: dict[str, Generated], name: str) -> None:
    project = generated[name]
    overlays = sorted(p.name for p in (project.path / "deploy" / "overlays").iterdir())
    assert overlays == sorted(project.case.environments)
    for env in project.case.environments:
        objects = project.overlay(env)
        namespace = f"{project.case.team}-{env}"
        assert {o["metadata"]["namespace"] for o in objects} == {namespace}
        container = _pod(objects)["containers"][0]
        assert container["image"] == (f"registry.example.com/{project.case.team}/"
                                      f"{project.case.service}:0.1.0")
        resources = project.case.settings.get("resources", {"cpu": "100m", "memory": "128Mi"})
        assert container["resources"]["requests"] == resources
        limits = container["resources"]["limits"]
        assert limits == {"cpu": max(resources["cpu"], "500m", key=_cpu),
                          "memory": max(resources["memory"], "512Mi", key=_memory)}


def _cpu(text: str) -> float:
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _memory(text: str) -> int:
    return int(text[:-2]) << {"Mi": 20, "Gi": 30}[text[-2:]]


def test_the_autoscaler_owns_the_replica_count(generated: dict[str, Generated],
                                               name: str) -> None:
    project = generated[name]
    replicas = project.case.settings.get("replicas", {})
    for env in project.case.environments:
        objects = project.overlay(env)
        # Argo CD self-heal would reset every scale-out to a replica count set here.
        assert "replicas" not in _deployment(objects)["spec"]
        (hpa,) = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
        assert hpa["spec"]["minReplicas"] == replicas.get(env, 1)
        assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]


def test_the_spec_port_is_the_traffic_port(generated: dict[str, Generated], name: str) -> None:
    project = generated[name]
    if project.case.template != "python-service":
        pytest.skip("a worker serves no traffic")
    port = project.case.settings.get("port", 8080)
    objects = project.overlay(project.case.environments[-1])
    (svc,) = [o for o in objects if o["kind"] == "Service"]
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    assert ports[metrics.HTTP_PORT_NAME]["port"] == port
    container = _pod(objects)["containers"][0]
    assert {p["name"]: p["containerPort"] for p in container["ports"]}[
        metrics.HTTP_PORT_NAME] == port
    assert {"name": "PORT", "value": str(port)} in container["env"]


def test_manifests_are_valid_kubernetes(generated: dict[str, Generated], name: str) -> None:
    project = generated[name]
    trees = [kustomize(project.path / "deploy" / "base")]
    trees += [project.overlay(env) for env in project.case.environments]
    for objects in trees:
        assert {o["kind"] for o in objects} == {
            "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
        for obj in objects:
            kubernetes_validate.validate(obj, "1.31", strict=True)


def test_every_kind_is_one_tenants_may_deploy(generated: dict[str, Generated], name: str) -> None:
    """The team AppProject whitelists rbac.TENANT_KINDS only; a template deploying any
    other kind would fail to sync."""
    project = generated[name]
    allowed = {(k.group, k.kind) for k in rbac.TENANT_KINDS}
    for env in project.case.environments:
        for obj in project.overlay(env):
            group = obj["apiVersion"].rpartition("/")[0]
            assert (group, obj["kind"]) in allowed, obj["kind"]


def test_pods_pass_pod_security_restricted(generated: dict[str, Generated], name: str) -> None:
    project = generated[name]
    for env in project.case.environments:
        pod = _pod(project.overlay(env))
        assert restricted_violations(pod) == []
        container = pod["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]


def test_workload_follows_platform_conventions(generated: dict[str, Generated], name: str) -> None:
    project = generated[name]
    service = project.case.service
    objects = project.overlay(project.case.environments[-1])
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == service
        assert labels["app.kubernetes.io/part-of"] == project.case.team
        assert labels[BACKSTAGE_ID] == service
    deployment = _deployment(objects)
    assert deployment["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": service}
    assert deployment["spec"]["template"]["metadata"]["labels"][BACKSTAGE_ID] == service
    pod = _pod(objects)
    # The ServiceAccount goldenpath's tenancy renderer makes, named after the service.
    assert pod["serviceAccountName"] == service
    assert pod["automountServiceAccountToken"] is False
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    container = pod["containers"][0]
    assert container["readinessProbe"] and container["livenessProbe"]
    assert set(container["resources"]) == {"requests", "limits"}
    ports = {p["name"] for p in container["ports"]}
    expected = {metrics.METRICS_PORT_NAME}
    if project.case.template == "python-service":
        expected.add(metrics.HTTP_PORT_NAME)
    assert ports == expected
    (svc,) = [o for o in objects if o["kind"] == "Service"]
    assert {p["name"] for p in svc["spec"]["ports"]} == expected
    assert svc["spec"]["selector"] == {"app.kubernetes.io/name": service}


def test_the_service_carries_what_the_service_monitor_reads(generated: dict[str, Generated],
                                                           name: str) -> None:
    """goldenpath's ServiceMonitor selects the Service by its labels and copies its
    ``targetLabels`` (the team label) onto every series the SLO rules and alert routes
    select by team: the Service of every overlay carries them, with the team's name."""
    project = generated[name]
    monitors = [m for m in render(project.spec).of_kind("ServiceMonitor")
                if m.body["metadata"]["name"] == project.case.service]
    assert {m.namespace for m in monitors} == {f"{project.case.team}-{env}"
                                               for env in project.case.environments}
    for monitor in monitors:
        spec = monitor.body["spec"]
        assert spec["targetLabels"] == [LABEL_TEAM]
        (svc,) = [o for o in project.overlay(monitor.namespace.rsplit("-", 1)[1])
                  if o["kind"] == "Service"]
        assert svc["metadata"]["namespace"] == monitor.namespace
        labels = svc["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items()
        assert {label: labels.get(label) for label in spec["targetLabels"]} == {
            LABEL_TEAM: project.case.team}
        ports = {p["name"] for p in svc["spec"]["ports"]}
        assert {e["port"] for e in spec["endpoints"]} <= ports


def test_metrics_contract_names_and_buckets(generated: dict[str, Generated], name: str) -> None:
    project = generated[name]
    source = (project.path / "src" / service_package(project) / "metrics.py").read_text()
    assert f'"{metrics.HTTP_REQUESTS_TOTAL}"' in source
    assert f'"{metrics.HTTP_REQUEST_DURATION}"' in source
    if project.case.latency_ms is not None:
        assert f"{metrics.latency_bucket(project.case.latency_ms)}," in source


def service_package(project: Generated) -> str:
    return project.case.service.replace("-", "_")


def test_catalog_info_is_a_backstage_component(generated: dict[str, Generated], name: str) -> None:
    project = generated[name]
    doc = yaml.safe_load((project.path / "catalog-info.yaml").read_text())
    assert doc["kind"] == "Component" and doc["apiVersion"] == "backstage.io/v1alpha1"
    assert doc["spec"]["owner"] == f"group:default/{project.case.team}"
    annotations = doc["metadata"]["annotations"]
    assert annotations[BACKSTAGE_ID] == project.case.service
    assert annotations["backstage.io/kubernetes-namespace"] == (
        f"{project.case.team}-{project.case.environments[-1]}")
    assert annotations["backstage.io/source-template"] == (
        f"template:default/{project.case.template}")


def test_dockerfile_is_multi_stage_pinned_and_non_root(generated: dict[str, Generated],
                                                       name: str) -> None:
    lines = (generated[name].path / "Dockerfile").read_text().splitlines()
    bases = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert len(bases) >= 2
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", base), base
    final = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM "))]
    final_stage = "\n".join(lines[lines.index(final):])
    user = re.findall(r"^USER (\d+)(?::(\d+))?$", final_stage, re.MULTILINE)
    assert user and int(user[-1][0]) > 0
    assert not re.search(r"apt-get|apk add|gcc|build-essential", final_stage)


def test_ci_workflow_tests_builds_and_validates(generated: dict[str, Generated],
                                                name: str) -> None:
    workflow = yaml.safe_load((generated[name].path / ".github/workflows/ci.yaml").read_text())
    jobs = workflow["jobs"]
    assert {"test", "manifests", "image"} <= set(jobs)
    steps = str(jobs["manifests"]["steps"])
    assert "kustomize" in steps and "kubeconform" in steps
