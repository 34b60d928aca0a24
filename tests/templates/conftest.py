"""Golden-path projects generated once per test session (per xdist worker), through the
real scaffolder context builder and a real cookiecutter run, for several parameter sets;
their overlays are built by the real ``kubectl kustomize``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from goldenpath.scaffold import cookie
from goldenpath.scaffold.context import inputs_from_spec, service_context
from goldenpath.spec import PlatformSpec, load_platform
from goldenpath.spec.models import ServiceSpec
from tests.factories import ROOT, platform_doc, team_doc, write_platform
from tests.kustomize import kustomize


@dataclass(frozen=True)
class Case:
    template: str
    team: str
    service: str
    environments: tuple[str, ...]
    params: dict[str, str]
    latency_ms: int | None = None
    #: the service's spec entry beyond name, template and parameters (port, replicas, ...)
    settings: dict[str, Any] = field(default_factory=dict)


CASES = {
    "service-three-envs": Case("python-service", "payments", "ledger",
                               ("dev", "staging", "prod"), {}),
    "service-custom-envs": Case("python-service", "storefront", "web-frontend", ("qa", "live"),
                                {"description": "Serves the shop's pages."}, latency_ms=250),
    "worker-three-envs": Case("python-worker", "payments", "settlement-worker",
                              ("dev", "staging", "prod"), {"queue": "settlements"}),
    "worker-one-env": Case("python-worker", "data", "ingest", ("live",),
                           {"queue": "raw.events-v2", "description": "Ingests raw events."}),
    # Requests above the platform's default limits (500m, 512Mi) raise the limits.
    "service-spec-settings": Case("python-service", "payments", "api", ("dev", "prod"), {},
                                  settings={"port": 9000, "replicas": {"prod": 4},
                                            "resources": {"cpu": "1", "memory": "1Gi"}}),
}


@dataclass(frozen=True)
class Generated:
    case: Case
    path: Path
    context: dict[str, Any]
    #: the platform the project was made for (its team lists the service)
    spec: PlatformSpec

    def overlay(self, env: str) -> list[dict[str, Any]]:
        return kustomize(self.path / "deploy" / "overlays" / env)


def _entry(case: Case) -> dict[str, Any]:
    slo = {"latencyP99Ms": case.latency_ms} if case.latency_ms is not None else None
    entry = {"name": case.service, "template": case.template, "parameters": case.params,
             "slo": slo, **case.settings}
    return {key: value for key, value in entry.items() if value is not None}


def _platform(root: Path, case: Case) -> Path:
    """A platform whose one team has the case's service, as new-service would leave it."""
    envs = [{"name": env, "podSecurity": "restricted"} for env in case.environments]
    doc = platform_doc(environments=envs, clusters=[
        {"name": "main", "server": "https://k8s.example.com",
         "environments": list(case.environments)}])
    team = team_doc(case.team, environments=list(case.environments), services=[_entry(case)])
    return write_platform(root, doc, [team])


def generate(root: Path, case: Case) -> Generated:
    spec = load_platform(_platform(root / "platform", case))
    team = spec.team(case.team)
    service = ServiceSpec.model_validate(_entry(case))
    context = service_context(spec, inputs_from_spec(team, service))
    project = cookie.render(ROOT / "templates" / case.template, context, root / "out")
    return Generated(case, project, context, spec)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Generated]:
    return {name: generate(tmp_path_factory.mktemp(name), case) for name, case in CASES.items()}
