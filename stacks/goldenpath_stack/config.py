"""The stack's configuration: which platform, which cluster, how to reach it.

Keys (namespace ``goldenpath``, set in ``Pulumi.<stack>.yaml`` or ``pulumi config set``):

- ``platformDir``: the platform directory (``platform.yaml`` + ``teams/``); relative paths
  are taken from the Pulumi project directory (``stacks/``). Default ``../platform``.
- ``cluster``: the cluster (a name in ``platform.yaml``) whose objects this stack owns.
- ``kubeconfig``: kubeconfig path or contents (store contents as a secret); unset, the
  provider uses ``$KUBECONFIG`` or ``~/.kube/config``.
- ``kubeContext``: the kubeconfig context; unset, the kubeconfig's current context.
- ``protectedEnvironments``: environments whose namespaces are created with
  ``protect=True``; each must be an environment of the platform. Unset, the platform's
  protected environments (``spec.environments[].protected``: ``prod`` and
  ``production`` unless it says otherwise), the ones ``apply`` will not remove either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

from goldenpath.errors import NotFound
from goldenpath.spec import PlatformSpec

NAMESPACE = "goldenpath"
DEFAULT_PLATFORM_DIR = "../platform"


@dataclass(frozen=True)
class StackConfig:
    platform_dir: Path
    cluster: str
    kubeconfig: pulumi.Input[str] | None = None
    kube_context: str | None = None
    #: None: the platform's protected environments (see ``protected``)
    protected_environments: frozenset[str] | None = None

    def protected(self, spec: PlatformSpec) -> frozenset[str]:
        """The environments whose namespaces this stack protects; a name the platform
        does not have is an error, as an unknown ``cluster`` is (a typo would otherwise
        leave production unprotected without a word)."""
        known = spec.environments
        if self.protected_environments is None:
            return frozenset(name for name, env in known.items() if env.is_protected)
        for name in sorted(self.protected_environments - known.keys()):
            raise NotFound(
                f"{NAMESPACE}:protectedEnvironments: {name!r} is not an environment of the "
                f"platform (known: {', '.join(sorted(known))})", kind="environment", name=name)
        return self.protected_environments


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
        protected_environments=None if protected is None else frozenset(protected),
    )
