"""The public surface of the core package is exactly what ``__all__`` names."""

from __future__ import annotations

import goldenpath

EXPORTED = [
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


def test_all_is_pinned() -> None:
    assert goldenpath.__all__ == EXPORTED


def test_every_exported_member_exists_and_belongs_to_goldenpath() -> None:
    for name in goldenpath.__all__:
        member = getattr(goldenpath, name)
        if name != "__version__":
            assert member.__module__.startswith("goldenpath."), name


def test_errors_share_one_base() -> None:
    for name in ("Conflict", "Forbidden", "GitError", "IdentityProviderError", "NotFound",
                 "PolicyViolation", "SpecError", "StoreError", "TemplateError", "Unauthorized"):
        assert issubclass(getattr(goldenpath, name), goldenpath.GoldenpathError)
