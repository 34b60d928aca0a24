"""goldenpath's own deployment (``deploy/``), built once per test session by the real
``kubectl kustomize``: both overlays and the Argo CD objects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import ROOT
from tests.kustomize import kustomize

DEPLOY = ROOT / "deploy"
OVERLAYS = ("embedded", "production")
NAMESPACE = "goldenpath"
IMAGE = "registry.example.com/platform/goldenpath:0.1.0"
SERVER = {"app.kubernetes.io/name": "goldenpath", "app.kubernetes.io/component": "server"}

Objects = list[dict[str, Any]]


@pytest.fixture(scope="session")
def built() -> dict[str, Objects]:
    """Overlay name -> the objects it builds; "argocd" -> the Application and its project."""
    trees = {name: kustomize(DEPLOY / "overlays" / name) for name in OVERLAYS}
    trees["argocd"] = kustomize(DEPLOY / "argocd")
    return trees


def one(objects: Objects, kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [o for o in objects
                if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    return found


def pods(objects: Objects) -> list[dict[str, Any]]:
    """The pod templates of every workload (the Deployment and, in production, the Job)."""
    return [o["spec"]["template"] for o in objects if o["kind"] in ("Deployment", "Job")]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())
