"""``with_team_files`` parses and validates a team file's bytes once per process: the
API's submission check and the worker's commit of the same request hand it the very
same bytes (the round-trip edit is memoised), so the second one takes the model the
first built. Only a file that passed is kept, by its exact bytes and team name: a file
with a problem is reported every time, and any other byte is parsed afresh."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from goldenpath.errors import SpecError
from goldenpath.spec import PlatformSpec, load_platform, loader
from tests.factories import platform_doc, team_doc, write_platform

FILE = "platform/teams/alpha.yaml"


@pytest.fixture
def spec(tmp_path: Path) -> PlatformSpec:
    return load_platform(write_platform(tmp_path, platform_doc(),
                                        [team_doc("alpha"), team_doc("beta")]))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The team file bytes parsed (our seam: the loader's YAML parse)."""
    seen: list[bytes] = []
    parse = loader.parse_yaml_mapping

    def counting(raw: bytes) -> object:
        seen.append(raw)
        return parse(raw)

    monkeypatch.setattr(loader, "parse_yaml_mapping", counting)
    loader.PARSED_TEAMS.clear()
    return seen


def _raw(cost_center: str, name: str = "alpha") -> bytes:
    doc = team_doc(name)
    doc["spec"]["costCenter"] = cost_center
    return yaml.safe_dump(doc, sort_keys=False).encode()


def test_the_same_bytes_are_parsed_and_validated_once(spec: PlatformSpec,
                                                       parses: list[bytes]) -> None:
    raw = _raw("CC-1")
    first = loader.with_team_files(spec, {"alpha": (FILE, raw)})
    second = loader.with_team_files(spec, {"alpha": (FILE, raw)})
    assert parses == [raw]
    a, b = first.entry["alpha"], second.entry["alpha"]
    assert a is not b  # a fresh entry each time: what it resolves belongs to its platform
    assert a.model is b.model and a.digest == b.digest and a.facts == b.facts
    assert a.model.spec.cost_center == "CC-1"
    # other bytes, or the same bytes for another team, are parsed afresh
    loader.with_team_files(spec, {"alpha": (FILE, _raw("CC-2"))})
    assert len(parses) == 2


def test_a_file_with_a_problem_is_reported_every_time(spec: PlatformSpec,
                                                       parses: list[bytes]) -> None:
    wrong = _raw("CC-1", name="gamma")  # names another team than its file
    for _ in range(2):
        with pytest.raises(SpecError) as refused:
            loader.with_team_files(spec, {"alpha": (FILE, wrong)})
        assert str(refused.value.issues[0]) == \
            f'{FILE}: metadata.name: "gamma": must equal the file name \'alpha\''
    assert parses == [wrong, wrong]

