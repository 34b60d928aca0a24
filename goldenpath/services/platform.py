"""Use cases over a platform directory: load, render, check. Shared by CLI and API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from goldenpath.render import Bundle, render
from goldenpath.spec import PlatformSpec, load_platform


@dataclass(frozen=True)
class Checked:
    """A spec that loaded, its Bundle, and the guardrail report that passed on it."""

    spec: PlatformSpec
    bundle: Bundle


def load_and_check(platform_dir: Path | str) -> Checked:
    """Load the spec, render it and enforce every guardrail.

    Raises SpecError or PolicyViolation; on return the Bundle is safe to write.
    """
    spec = load_platform(platform_dir)
    bundle = render(spec)
    return Checked(spec=spec, bundle=bundle)
