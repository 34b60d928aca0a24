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


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize directory`` yields, in its order."""
    assert KUBECTL is not None, "kubectl not found: install kubectl (kustomize is built in)"
    done = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, f"kubectl kustomize {directory}: {done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]
