"""The validated-model cache: unchanged files are not parsed again, changed and invalid
files are, and a damaged cache is ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import SpecError
from goldenpath.spec import loader
from goldenpath.spec.cache import FILE
from goldenpath.spec.resolve import canonical_json
from tests.factories import platform_doc, team_doc, write_platform


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every file the loader parses."""
    calls: list[bytes] = []
    real = loader.parse_yaml_mapping

    def spy(data: bytes) -> dict[str, Any]:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(loader, "parse_yaml_mapping", spy)
    return calls


def test_only_changed_files_are_parsed_again(tmp_path: Path, parsed: list[bytes]) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha"), team_doc("beta")])
    cache = tmp_path / "cache"
    first = loader.load_platform(root, cache)
    assert len(parsed) == 3
    assert loader.load_platform(root, cache) == first
    assert len(parsed) == 3
    write_platform(root, platform_doc(), [team_doc("beta", costCenter="CC-9")])
    again = loader.load_platform(root, cache)
    assert len(parsed) == 4 and b"CC-9" in parsed[-1]
    assert again.teams_by_name["beta"].spec.cost_center == "CC-9"


def test_an_invalid_file_is_reported_every_time(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(),
                          [team_doc("alpha", quota={"cpu": "lots"})])
    for _ in range(2):
        with pytest.raises(SpecError, match=r"spec\.quota\.cpu"):
            loader.load_platform(root, tmp_path / "cache")


def test_a_damaged_cache_is_ignored(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha")])
    cache = tmp_path / "cache"
    expected = loader.load_platform(root, cache)
    (cache / FILE).write_bytes(b"not a pickle")
    assert loader.load_platform(root, cache) == expected


def test_cached_canonical_json_is_what_dumping_the_models_gives(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha"), team_doc("beta")])
    cache = tmp_path / "cache"
    loader.load_platform(root, cache)
    cached = loader.load_platform(root, cache)
    fresh = loader.load_platform(root)
    assert cached.documents.keys() == {"", "alpha", "beta"}
    assert cached.canonical == fresh.canonical == {
        key: canonical_json(doc) for key, doc in
        {"": fresh.platform, **fresh.teams_by_name}.items()}
