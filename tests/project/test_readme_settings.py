"""The README's settings tables list every GOLDENPATH_* variable goldenpath reads: each
Settings field, and each name the code, the stacks, the tests or CI mention."""

from __future__ import annotations

import re

from goldenpath.settings import ENV_PREFIX, Settings
from tests.factories import ROOT

_NAME = re.compile(ENV_PREFIX + r"[A-Z][A-Z_]*[A-Z]")
_SOURCES = ["goldenpath", "stacks", "tests", "benchmarks", "templates"]


def _documented() -> set[str]:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines()
            if line.startswith(f"| `{ENV_PREFIX}")]
    return {name for row in rows for name in _NAME.findall(row.split("|")[1])}


def _mentioned() -> set[str]:
    files = [p for d in _SOURCES for p in (ROOT / d).rglob("*")
             if p.is_file() and p.suffix in {".py", ".yaml", ".yml", ".toml", ".cfg", ".sh"}]
    files += [ROOT / "Makefile", ROOT / ".ci" / "run"]
    return {name for f in files if f.is_file() for name in _NAME.findall(f.read_text())}


def test_every_setting_is_documented() -> None:
    fields = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    missing = (fields | _mentioned()) - _documented()
    assert not missing, f"README settings tables lack {sorted(missing)}"
