"""Where each rendered object lives in the platform control repository.

    clusters/<cluster>/platform/<kind>-<name>.yaml   cluster-scoped platform objects
    tenants/<team>/<env>/<kind>-<name>.yaml          a team's objects in one environment

The mapping is a pure function of the object, so file names are stable across renders.
"""

from __future__ import annotations

from typing import Any

import yaml

from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.resolve import PlatformSpec

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # type: ignore[assignment]


def path_for(resource: Resource) -> str:
    c = resource.coords
    stem = f"{resource.kind.lower()}-{resource.name}.yaml"
    if c.team is None:
        return f"clusters/{c.cluster}/platform/{stem}"
    return f"tenants/{c.team}/{c.environment}/{stem}"


def to_yaml(body: dict[str, Any]) -> bytes:
    """Deterministic YAML: sorted keys, block style, one trailing newline."""
    text: str = yaml.dump(body, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                          allow_unicode=True, width=1 << 16)
    return text.encode("utf-8")


def repository_files(spec: PlatformSpec, bundle: Bundle) -> dict[str, bytes]:
    """Path -> content for every object; refuses two objects on one path."""
    files: dict[str, bytes] = {}
    for resource in bundle:
        path = path_for(resource)
        if path in files:
            raise ValueError(f"two objects render to {path}")
        files[path] = to_yaml(resource.body)
    return dict(sorted(files.items()))
