"""A small kustomize, for tests: composes base + overlay the way ``kustomize build`` does
for the features the golden-path templates use (resources, namespace, images, replicas,
strategic-merge patches from files). Anything else is refused loudly, so a template that
starts using a feature this does not model fails its tests instead of passing untested.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


class Unsupported(ValueError):
    """The kustomization uses a feature this composer does not model."""


def build(directory: Path) -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise Unsupported(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    objects: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        objects += build(path) if path.is_dir() else _load(path)
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            raise Unsupported(f"{directory}: only file patches are modelled, got {patch}")
        _patch(objects, yaml.safe_load((directory / patch["path"]).read_text()))
    for image in kustomization.get("images", []):
        _set_image(objects, image)
    for replicas in kustomization.get("replicas", []):
        _find(objects, None, replicas["name"], {"Deployment", "StatefulSet"})["spec"][
            "replicas"] = replicas["count"]
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    return objects


def _load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _find(objects: list[dict[str, Any]], kind: str | None, name: str,
          kinds: set[str] | None = None) -> dict[str, Any]:
    wanted = {kind} if kind else (kinds or set())
    for obj in objects:
        if obj["metadata"]["name"] == name and obj["kind"] in wanted:
            return obj
    raise Unsupported(f"no {kind or kinds} named {name!r} to change")


def _patch(objects: list[dict[str, Any]], patch: dict[str, Any]) -> None:
    target = _find(objects, patch["kind"], patch["metadata"]["name"])
    merge(target, {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")})


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Strategic merge: maps merge, lists of named maps merge by name, other lists replace."""
    for key, value in patch.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merge(current, value)
        elif isinstance(current, list) and isinstance(value, list) and _named(current + value):
            by_name = {item["name"]: item for item in current}
            for item in value:
                if item["name"] in by_name:
                    merge(by_name[item["name"]], item)
                else:
                    current.append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def _set_image(objects: list[dict[str, Any]], image: dict[str, str]) -> None:
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            name, _, tag = container["image"].rpartition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
