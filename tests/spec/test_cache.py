"""The validated-model cache: unchanged files are not parsed again, changed and invalid
files are, unchanged teams' models are not even built, teams that passed the cross-file
checks under the same platform are not checked again, and a damaged cache is ignored."""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import SpecError, SpecIssue
from goldenpath.render import render_teams
from goldenpath.spec import PlatformSpec, Team, crossref, loader
from goldenpath.spec import cache as spec_cache
from goldenpath.spec.cache import INDEX, MODELS
from goldenpath.spec.resolve import canonical_json, document_digest
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
    assert again.team("beta").spec.cost_center == "CC-9"


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
    (cache / INDEX).write_bytes(b"not a pickle")
    assert loader.load_platform(root, cache) == expected


def test_cached_digests_are_what_dumping_the_models_gives(tmp_path: Path) -> None:
    root = write_platform(tmp_path / "p", platform_doc(), [team_doc("alpha"), team_doc("beta")])
    cache = tmp_path / "cache"
    loader.load_platform(root, cache)
    cached = loader.load_platform(root, cache)
    fresh = loader.load_platform(root)
    assert cached.platform_digest
    expected = {key: document_digest(doc) for key, doc in
                {"": fresh.platform, **{n: fresh.team(n) for n in fresh.team_names}}.items()}
    assert cached.digests == fresh.digests == expected
    assert expected["alpha"] == hashlib.sha256(
        canonical_json(fresh.team("alpha")).encode()).hexdigest()


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the teams the cross-file checks run on."""
    calls: list[str] = []
    real = crossref.team_issues

    def spy(spec: PlatformSpec, team: Team, file: str) -> Iterator[SpecIssue]:
        calls.append(team.name)
        return real(spec, team, file)

    monkeypatch.setattr(crossref, "team_issues", spy)
    return calls


def _three(root: Path, **platform: Any) -> Path:
    return write_platform(root, platform_doc(**platform), [
        team_doc("alpha", network={"allowFromTeams": ["beta"]}), team_doc("beta"),
        team_doc("gamma", quota={"cpu": "3"})])


def test_unchanged_teams_models_are_not_built(tmp_path: Path) -> None:
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    write_platform(root, platform_doc(), [team_doc("beta", costCenter="CC-9")])
    spec = loader.load_platform(root, cache)
    built = {e.name: e.holds(spec.team(e.name)) for e in spec.entries}  # builds each
    assert built == {"alpha": True, "beta": True, "gamma": True}
    spec = loader.load_platform(root, cache)
    assert [e.name for e in spec.entries if e._model is not None] == []
    # what needs no model: names, digests, quotas, cluster-level objects
    assert spec.team_names == ("alpha", "beta", "gamma")
    assert spec.quota_of("gamma", "dev").cpu == "3"
    render_teams(spec, ["beta"])
    assert [e.name for e in spec.entries if e._model is not None] == ["beta"]
    assert spec.team("alpha") == loader.load_platform(root).team("alpha")


def test_a_team_that_passed_is_not_checked_again(tmp_path: Path,
                                                 checked: list[str]) -> None:
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    assert checked == ["alpha", "beta", "gamma"]
    write_platform(root, platform_doc(), [team_doc("gamma", quota={"cpu": "5"})])
    spec = loader.load_platform(root, cache)
    assert checked[3:] == ["gamma"]
    assert spec.quota_of("gamma", "prod").cpu == "5"
    assert spec.quota_of("alpha", "prod") == loader.load_platform(root).quota_of("alpha", "prod")


def test_a_platform_change_checks_every_team_again(tmp_path: Path, checked: list[str]) -> None:
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    defaults = {"quota": {"cpu": "2", "memory": "4Gi"}}
    _three(root, defaults=defaults)
    spec = loader.load_platform(root, cache)
    assert checked[3:] == ["alpha", "beta", "gamma"]
    assert spec.quota_of("alpha", "dev").cpu == "2"  # the platform default, not the cached 4


def test_a_removed_peer_is_reported_with_every_other_file_cached(tmp_path: Path) -> None:
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    (root / "teams" / "beta.yaml").unlink()
    with pytest.raises(SpecError, match=r"alpha\.yaml: spec\.network\.allowFromTeams\[0\]: "
                                        r'"beta": is not a team \(known: alpha, gamma\)'):
        loader.load_platform(root, cache)


def test_a_team_that_failed_is_checked_every_time(tmp_path: Path, checked: list[str]) -> None:
    root = write_platform(tmp_path / "p", platform_doc(),
                          [team_doc("alpha", quota={"cpu": "4", "limitsCpu": "2"})])
    for _ in range(2):
        with pytest.raises(SpecError, match=r"limitsCpu is below the cpu request"):
            loader.load_platform(root, tmp_path / "cache")
    assert checked == ["alpha", "alpha"]


def test_a_damaged_cached_model_is_built_from_its_file(tmp_path: Path) -> None:
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    expected = loader.load_platform(root, cache)
    models = sorted((cache / MODELS).iterdir())
    assert len(models) == 4  # the platform and three teams
    for path in models:
        path.write_bytes(b"damaged")
    spec = loader.load_platform(root, cache)
    assert spec.teams == expected.teams
    assert spec == expected


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the loader reads."""
    calls: list[str] = []
    real = loader.read_spec_bytes

    def spy(path: str, expected: os.stat_result | None = None) -> bytes:
        calls.append(Path(path).name)
        return real(path, expected)

    monkeypatch.setattr(loader, "read_spec_bytes", spy)
    return calls


def test_files_whose_stat_is_unchanged_are_not_read(tmp_path: Path, read: list[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_cache, "RACY_NS", -10**18)  # trust even this instant's stats
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    first = loader.load_platform(root, cache)
    assert sorted(read) == ["alpha.yaml", "beta.yaml", "gamma.yaml", "platform.yaml"]
    assert loader.load_platform(root, cache) == first
    assert len(read) == 4
    gamma = root / "teams" / "gamma.yaml"
    before = gamma.stat()
    gamma.write_text(gamma.read_text().replace("cpu: '3'", "cpu: '5'"))
    os.utime(gamma, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size and mtime
    assert gamma.stat().st_size == before.st_size
    spec = loader.load_platform(root, cache)
    assert read[4:] == ["gamma.yaml"]  # the ctime changed
    assert spec.quota_of("gamma", "dev").cpu == "5"


def test_a_file_written_just_before_a_load_is_read_again(tmp_path: Path,
                                                        read: list[str]) -> None:
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    loader.load_platform(root, cache)
    assert len(read) == 8  # written within RACY_NS of the save: not trusted


def test_the_cache_keeps_only_what_the_last_load_used(tmp_path: Path) -> None:
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    (root / "teams" / "gamma.yaml").unlink()
    write_platform(root, platform_doc(), [team_doc("beta", costCenter="CC-9")])
    loader.load_platform(root, cache)
    index = spec_cache._unseal(spec_cache.secret_key(cache), cache / INDEX)[0]
    assert len(index["docs"]) == len(list((cache / MODELS).iterdir())) == 3
    assert sorted(Path(p).name for p in index["paths"]) == [
        "alpha.yaml", "beta.yaml", "platform.yaml"]


def test_a_file_changed_after_loading_is_not_built_from_its_new_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_cache, "RACY_NS", -10**18)
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    spec = loader.load_platform(root, cache)  # every model left in its file
    for path in (cache / MODELS).iterdir():
        path.write_bytes(b"damaged")
    write_platform(root, platform_doc(), [team_doc("beta", costCenter="CC-9")])
    with pytest.raises(SpecError, match=r"beta\.yaml: changed while goldenpath was reading"):
        spec.team("beta")
    assert spec.team("alpha").name == "alpha"  # unchanged: validated from its file again


# --- nothing in the cache can run code, whoever wrote it ------------------------------------


class _Planted:
    """A pickle that creates ``marker`` when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _warm(tmp_path: Path) -> tuple[Path, Path, PlatformSpec]:
    """A platform loaded twice with the cache, the second time from it."""
    root, cache = _three(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    return root, cache, loader.load_platform(root, cache)


def test_a_planted_pickle_is_never_loaded(tmp_path: Path) -> None:
    root, cache, expected = _warm(tmp_path)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Planted(marker))
    keys = [p.name.partition(".")[0] for p in (cache / MODELS).iterdir()]
    assert len(keys) == 4
    for key in keys:  # under every name a model could have
        for suffix in (".pickle", ".json", ""):
            (cache / MODELS / f"{key}{suffix}").write_bytes(payload)
    (cache / INDEX).write_bytes(payload)
    spec = loader.load_platform(root, cache)
    assert [spec.team(n) for n in spec.team_names] == list(expected.teams)
    assert spec == expected
    assert not marker.exists()
    # and the cache was rebuilt: the next load builds the models from it again
    models = [p for p in (cache / MODELS).iterdir() if p.suffix == ".json"]
    assert len(models) == 4 and all(p.read_bytes().startswith(b"{") for p in models)


def test_a_forged_model_that_is_valid_is_refused_by_its_digest(tmp_path: Path) -> None:
    root, cache, expected = _warm(tmp_path)
    forged = team_doc("beta", network={"egressCIDRs": ["10.0.0.0/8"]})
    for path in (cache / MODELS).iterdir():
        if '"metadata":{"name":"beta"}' in path.read_text():
            path.write_text(Team.model_validate(forged).model_dump_json(by_alias=True))
    spec = loader.load_platform(root, cache)
    assert spec.team("beta") == expected.team("beta")
    assert spec.team("beta").spec.network.egress_cidrs == []


def test_an_index_not_signed_with_the_key_is_ignored(tmp_path: Path,
                                                    parsed: list[bytes]) -> None:
    root, cache, _ = _warm(tmp_path)
    assert len(parsed) == 4
    data = (cache / INDEX).read_bytes()
    body = data[len(spec_cache._MAGIC) + 32:]
    index = marshal.loads(body)
    assert index["format"] == spec_cache._FORMAT
    # someone who cannot read the key re-signs a changed index with a key of their own
    (cache / INDEX).write_bytes(data[:len(spec_cache._MAGIC)] + bytes(32) + body)
    loader.load_platform(root, cache)
    assert len(parsed) == 8  # every file parsed again: nothing of that index was used
    # and a marshal stream no key signed never reaches marshal.loads
    (cache / INDEX).write_bytes(spec_cache._MAGIC + bytes(32) + b"\xff" * 64)
    loader.load_platform(root, cache)
    assert len(parsed) == 12


def test_a_key_others_could_read_or_write_is_replaced(tmp_path: Path,
                                                      parsed: list[bytes]) -> None:
    root, cache, _ = _warm(tmp_path)
    key = cache / spec_cache.KEY
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    key.chmod(0o644)
    loader.load_platform(root, cache)
    assert len(parsed) == 8  # the index signed with a key others could read is not used
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.read_bytes() != before


@pytest.mark.parametrize("kind", ["fifo", "symlink", "directory"])
def test_cache_files_that_are_not_regular_files_are_not_read(tmp_path: Path, kind: str) -> None:
    root, cache, expected = _warm(tmp_path)
    targets = [cache / INDEX, cache / spec_cache.KEY, *(cache / MODELS).iterdir()]
    for path in targets:
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "symlink":
            path.symlink_to("/dev/zero")
        else:
            path.mkdir()
    done: list[PlatformSpec] = []
    thread = threading.Thread(target=lambda: done.append(loader.load_platform(root, cache)),
                              daemon=True)
    thread.start()
    thread.join(60)  # a FIFO opened for reading would block until a writer comes
    assert done == [expected]


def _many(root: Path) -> Path:
    """40 teams: enough that one changed team is a small part of the index."""
    return write_platform(root, platform_doc(), [team_doc(f"t{i:02}") for i in range(40)])


def _change_t00(root: Path, cpu: str) -> None:
    """Write team t00's file alone (the others keep their stat)."""
    scratch = write_platform(root.parent / "scratch", platform_doc(),
                             [team_doc("t00", quota={"cpu": cpu})])
    (root / "teams" / "t00.yaml").write_bytes((scratch / "teams" / "t00.yaml").read_bytes())


def _index(cache: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    opened = spec_cache.SpecCache.open(cache)
    return opened._docs, opened._paths, opened._checked


def test_a_one_file_change_writes_only_what_changed(
        tmp_path: Path, parsed: list[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """The index of 1,000 teams is 0.6 MB: a one-team change writes (and syncs) a small
    signed delta beside it, not the whole index again; read back, the two are exactly the
    index a full rewrite holds."""
    monkeypatch.setattr(spec_cache, "RACY_NS", -10**18)
    root, cache = _many(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    full = (cache / INDEX).stat().st_size
    written: dict[str, int] = {}
    real = spec_cache.write_atomic

    def spy(path: Path, data: bytes) -> None:
        written[path.name] = len(data)
        real(path, data)

    monkeypatch.setattr(spec_cache, "write_atomic", spy)
    _change_t00(root, "3")
    opened = spec_cache.SpecCache.open(cache)
    spec = loader.load_platform(root, cache=opened)
    opened.save()
    assert INDEX not in written and 0 < written[spec_cache.DELTA] < full // 10
    assert _index(cache) == (opened._used_docs, opened._used_paths, opened._used_checked)
    parsed.clear()
    assert loader.load_platform(root, cache) == spec == loader.load_platform(root)
    assert len(parsed) == 41  # only the load without a cache parsed anything
    assert spec.quota_of("t00", "dev").cpu == "3"


def test_a_delta_not_signed_for_this_index_is_ignored(
        tmp_path: Path, parsed: list[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """A delta is read only when this state's key signed it for the very index beside it
    (its MAC is in the delta): one re-signed by someone without the key, or one left
    from before the index was rewritten whole, is never unmarshalled or used."""
    monkeypatch.setattr(spec_cache, "RACY_NS", -10**18)
    root, cache = _many(tmp_path / "p"), tmp_path / "cache"
    loader.load_platform(root, cache)
    base = _index(cache)
    _change_t00(root, "3")
    loader.load_platform(root, cache)
    delta = (cache / spec_cache.DELTA).read_bytes()
    head = len(spec_cache._DELTA_MAGIC)
    (cache / spec_cache.DELTA).write_bytes(delta[:head] + bytes(32) + delta[head + 32:])
    assert _index(cache) == base  # the index alone
    (cache / spec_cache.DELTA).write_bytes(delta)
    assert _index(cache) != base
    # the index rewritten whole (every team changed): the old delta names the old index
    write_platform(root, platform_doc(), [team_doc(f"t{i:02}", costCenter="CC-9")
                                          for i in range(40)])
    loader.load_platform(root, cache)
    rewritten = _index(cache)
    (cache / spec_cache.DELTA).write_bytes(delta)
    assert _index(cache) == rewritten
    parsed.clear()
    assert loader.load_platform(root, cache).team("t05").spec.cost_center == "CC-9"
    assert parsed == []
