"""Pulumi's mocks, recording every registration, for the tests of the Pulumi program.

``set_mocks(..., preview=False)`` replaces the engine with an in-process monitor; the
program under test runs for real against it. ``RecordingMonitor`` (a ``MockMonitor``,
Pulumi's own seam) keeps what ``MockResourceArgs`` leaves out: the parent, the
dependencies and ``protect``. Each test gets fresh mocks, so nothing one test registers
is visible to the next; ``pulumi.runtime.test`` waits for every registration.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
if str(STACKS_DIR) not in sys.path:
    sys.path.insert(0, str(STACKS_DIR))


@dataclass(frozen=True)
class Registration:
    """One resource as the engine would have received it."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    provider: str
    parent: str
    dependencies: tuple[str, ...]
    protect: bool
    custom: bool
    id: str


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        # The "created" object's state is what was asked for, as with a real apply.
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    def __init__(self) -> None:
        super().__init__(_Mocks())
        self.registrations: dict[str, Registration] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations[response.urn] = Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=dict(self.resources[response.urn].state),
                provider=request.provider,
                parent=request.parent,
                dependencies=tuple(request.dependencies),
                protect=bool(request.protect),
                custom=bool(request.custom),
                id=response.id,
            )
        return response

    def of_type(self, prefix: str) -> list[Registration]:
        return [r for r in self.registrations.values() if r.type.startswith(prefix)]

    def kubernetes_objects(self) -> list[Registration]:
        """Every Kubernetes object the program declared (not the provider, not components)."""
        return self.of_type("kubernetes:")


@pytest.fixture
def monitor() -> Iterator[RecordingMonitor]:
    """Fresh Pulumi mocks for one test; the program must be built after this runs."""
    recording = RecordingMonitor()
    pulumi.runtime.set_mocks(recording.mocks, project="goldenpath", stack="test",
                             preview=False, monitor=recording)
    yield recording
