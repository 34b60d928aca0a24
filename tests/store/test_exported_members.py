"""The store's public surface is what ``goldenpath.store.__all__`` names."""

from __future__ import annotations

import goldenpath.store

EXPORTED = [
    "FAILED", "PENDING_APPROVAL", "QUEUED", "REJECTED", "RUNNING", "STATES", "SUCCEEDED",
    "AuditEntry", "AuditPage", "Claim", "LogLine", "MintedToken", "QueueStats", "Request",
    "Step", "Store", "Submitted", "Token", "open_store",
]


def test_all_is_pinned() -> None:
    assert goldenpath.store.__all__ == EXPORTED
    for name in EXPORTED:
        assert getattr(goldenpath.store, name) is not None, name


def test_no_sqlalchemy_type_is_exported() -> None:
    for name in EXPORTED:
        module = getattr(getattr(goldenpath.store, name), "__module__", "goldenpath.store")
        assert module.startswith("goldenpath.store"), name
