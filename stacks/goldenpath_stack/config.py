"""The stack's configuration: which platform, which cluster, how to reach it.

Keys (namespace ``goldenpath``, set in ``Pulumi.<stack>.yaml`` or ``pulumi config set``):

- ``platformDir``: the platform directory (``platform.yaml`` + ``teams/``); relative paths
  are taken from the Pulumi project directory (``stacks/``). Default ``../platform``.
- ``cluster``: the cluster (a name in ``platform.yaml``) whose objects this stack owns.
- ``kubeconfig``: kubeconfig path or contents (store contents as a secret); unset, the
  provider uses ``$KUBECONFIG`` or ``~/.kube/config``.
- ``kubeContext``: the kubeconfig context; unset, the kubeconfig's current context.
- ``protectedEnvironments``: environments whose namespaces are created with
  ``protect=True``. Default ``["prod"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

NAMESPACE = "goldenpath"
DEFAULT_PLATFORM_DIR = "../platform"
DEFAULT_PROTECTED_ENVIRONMENTS = frozenset({"prod"})


@dataclass(frozen=True)
class StackConfig:
    platform_dir: Path
    cluster: str
    kubeconfig: pulumi.Input[str] | None = None
    kube_context: str | None = None
    protected_environments: frozenset[str] = DEFAULT_PROTECTED_ENVIRONMENTS


def from_pulumi(project_dir: Path) -> StackConfig:
    """Read the stack's ``goldenpath:*`` configuration; ``cluster`` is required."""
    config = pulumi.Config(NAMESPACE)
    protected = config.get_object("protectedEnvironments")
    if protected is not None and not (
        isinstance(protected, list) and all(isinstance(e, str) for e in protected)
    ):
        raise pulumi.RunError(
            f"{NAMESPACE}:protectedEnvironments must be a list of environment names, "
            f"not {protected!r}"
        )
    return StackConfig(
        platform_dir=project_dir / (config.get("platformDir") or DEFAULT_PLATFORM_DIR),
        cluster=config.require("cluster"),
        kubeconfig=config.get_secret("kubeconfig"),
        kube_context=config.get("kubeContext"),
        protected_environments=(
            DEFAULT_PROTECTED_ENVIRONMENTS if protected is None else frozenset(protected)
        ),
    )
