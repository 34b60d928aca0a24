"""Write ``deploy/overlays/<environment>/`` for each environment the platform gave the team.

Cookiecutter cannot loop over a dict to make directories, and environment names are the
platform's to choose, so this hook writes one overlay per entry of the ``environments``
context. goldenpath runs this file as it is, never rendered: the context comes from the
JSON file named by ``$GOLDENPATH_CONTEXT``, so no value ever becomes Python source. JSON
is valid YAML, so values are written with ``json.dumps`` (quoted safely).

The HorizontalPodAutoscaler owns the replica count: overlays set its bounds, never
``spec.replicas``, so Argo CD's self-heal does not undo a scale-out.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

CONTEXT = json.loads(Path(os.environ["GOLDENPATH_CONTEXT"]).read_text(encoding="utf-8"))

KUSTOMIZATION = """\
# Environment {env}. Image tag, autoscaling bounds and resources live here; the
# HorizontalPodAutoscaler owns the replica count.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {namespace_json}
resources:
  - ../../base
images:
  - name: {image}
    newTag: {tag}
patches:
  - path: resources.yaml
  - path: autoscaling.yaml
"""

RESOURCES = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {service}
spec:
  template:
    spec:
      containers:
        - name: app
          resources:
            requests:
              cpu: {cpu}
              memory: {memory}
            limits:
              cpu: {cpu_limit}
              memory: {memory_limit}
"""

AUTOSCALING = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {service}
spec:
  minReplicas: {replicas}
  maxReplicas: {max_replicas}
"""


def write_overlay(name: str, env: dict[str, Any]) -> None:
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name):
        raise SystemExit(f"environment {name!r} is not a DNS label")
    replicas = int(env["replicas"])
    values = {
        "env": name,
        "namespace_json": json.dumps(env["namespace"]),
        "image": json.dumps(CONTEXT["image_repository"]),
        "tag": json.dumps(CONTEXT["image_tag"]),
        "service": json.dumps(CONTEXT["service_name"]),
        "replicas": replicas,
        # Headroom for the autoscaler above the planned replica count.
        "max_replicas": max(3, replicas * 3),
        **{key: json.dumps(env[key]) for key in ("cpu", "memory", "cpu_limit", "memory_limit")},
    }
    overlay = Path("deploy", "overlays", name)
    overlay.mkdir(parents=True, exist_ok=True)
    for file, text in (("kustomization.yaml", KUSTOMIZATION), ("resources.yaml", RESOURCES),
                       ("autoscaling.yaml", AUTOSCALING)):
        (overlay / file).write_text(text.format(**values), encoding="utf-8")


for env_name, env_values in sorted(CONTEXT["environments"].items()):
    write_overlay(env_name, env_values)
