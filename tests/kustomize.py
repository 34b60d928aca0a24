"""``kubectl kustomize``, the real one, for tests: builds a directory with a
kustomization.yaml into the objects it yields.

kubectl is on the machine image (kustomize is built into it); without it the tests that
build overlays fail, saying what to install, rather than pass untested.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

KUBECTL = shutil.which("kubectl")


class _Loader(yaml.SafeLoader):
    """kustomize (Go YAML) writes a plain ``=`` (an AlertmanagerConfig ``matchType``),
    which PyYAML's YAML 1.1 resolver reads as the ``value`` tag; it is the string "=",
    as Argo CD and the API server read it."""


_Loader.add_constructor("tag:yaml.org,2002:value", _Loader.construct_yaml_str)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize directory`` yields, in its order."""
    assert KUBECTL is not None, "kubectl not found: install kubectl (kustomize is built in)"
    done = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, f"kubectl kustomize {directory}: {done.stderr}"
    docs = yaml.load_all(done.stdout, Loader=_Loader)
    return [doc for doc in docs if doc]
