"""Entry point Pulumi runs (``pulumi preview`` / ``pulumi up`` in ``stacks/``): read the
stack's ``goldenpath:*`` configuration and build the program. All logic lives in the
importable ``goldenpath_stack`` package."""

from pathlib import Path

from goldenpath_stack.config import from_pulumi
from goldenpath_stack.program import build

stack = build(from_pulumi(Path(__file__).resolve().parent))
