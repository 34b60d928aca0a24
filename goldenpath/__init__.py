"""goldenpath: specs in, Kubernetes tenancy, Argo CD and observability out, the GitOps way.

The public entry points are the use cases a caller needs without knowing the layers:
load a platform, render it, check its guardrails.
"""

from goldenpath.errors import (
    Conflict,
    Forbidden,
    GitError,
    GoldenpathError,
    IdentityProviderError,
    NotFound,
    PolicyViolation,
    SpecError,
    StoreError,
    TemplateError,
    Unauthorized,
)
from goldenpath.policy import check, enforce
from goldenpath.render import Bundle, Resource, render
from goldenpath.spec import PlatformSpec, load_platform

__version__ = "0.1.0"

__all__ = [
    "Bundle",
    "Conflict",
    "Forbidden",
    "GitError",
    "GoldenpathError",
    "IdentityProviderError",
    "NotFound",
    "PlatformSpec",
    "PolicyViolation",
    "Resource",
    "SpecError",
    "StoreError",
    "TemplateError",
    "Unauthorized",
    "__version__",
    "check",
    "enforce",
    "load_platform",
    "render",
]
