"""Write ``deploy/overlays/<environment>/`` for each environment the platform gave the team.

Cookiecutter cannot loop over a dict to make directories, and environment names are the
platform's to choose, so this hook writes one overlay per entry of the ``environments``
context. JSON is valid YAML, so values are written with ``json.dumps`` (quoted safely).
"""

from __future__ import annotations

import json
from pathlib import Path

SERVICE = json.loads(r'''{{ cookiecutter.service_name | jsonify }}''')
IMAGE = json.loads(r'''{{ cookiecutter.image_repository | jsonify }}''')
TAG = json.loads(r'''{{ cookiecutter.image_tag | jsonify }}''')
ENVIRONMENTS = json.loads(r'''{{ cookiecutter.environments | jsonify }}''')

KUSTOMIZATION = """\
# Environment {env}: namespace {namespace}. Replicas, image tag and resources live here.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {namespace_json}
resources:
  - ../../base
images:
  - name: {image}
    newTag: {tag}
replicas:
  - name: {service}
    count: {replicas}
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


def write_overlay(name: str, env: dict[str, str]) -> None:
    replicas = int(env["replicas"])
    values = {
        "env": name,
        "namespace": env["namespace"],
        "namespace_json": json.dumps(env["namespace"]),
        "image": json.dumps(IMAGE),
        "tag": json.dumps(TAG),
        "service": json.dumps(SERVICE),
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


for env_name, env_values in sorted(ENVIRONMENTS.items()):
    write_overlay(env_name, env_values)
