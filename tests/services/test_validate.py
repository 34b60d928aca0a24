"""validate checks only the teams whose inputs changed since they last passed, and no
verdict it did not record itself, for exactly those inputs, lets a team through.

The hostile team: ``alpha`` grows past the platform's ``maxObjectsPerTeam``, which its
spec cannot be refused for (every field is within bounds) and only the ``team-objects``
guardrail catches, for alpha alone."""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from goldenpath import policy
from goldenpath.errors import GitError, PolicyViolation
from goldenpath.policy import verdicts
from goldenpath.policy.report import Report
from goldenpath.render import Bundle
from goldenpath.render.digest import team_digests
from goldenpath.services import gitops
from goldenpath.services.platform import Validated, load_and_check, validate_all, write_tree
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec, fingerprint, load_platform, loader
from goldenpath.spec.cache import secret_key
from tests.factories import platform_doc, team_doc, write_platform

#: alpha with one service fits; with four it renders more than this
CAP = 60
GROWN = [{"name": f"svc{i}", "template": "python-service", "port": 8080,
          "replicas": {"dev": 1}} for i in range(4)]
OVER = ("[team-objects] team alpha: renders {count} objects, more than the 60 the platform "
        "allows a team; ask a platform admin to raise spec.limits.maxObjectsPerTeam, or to "
        "grant the team more in spec.limits.grants.alpha.maxObjects, in platform.yaml")


def _write(root: Path, alpha: dict[str, Any] | None = None, *, beta_cpu: str = "2",
           capacity: dict[str, str] | None = None) -> Path:
    platform = platform_doc(limits={"maxObjectsPerTeam": CAP})
    if capacity is not None:
        platform["spec"]["clusters"][1]["capacity"] = capacity
    teams = [team_doc("alpha", **(alpha or {})),
             team_doc("beta", quota={"cpu": beta_cpu, "memory": "4Gi"})]
    return write_platform(root, platform, teams)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The state an apply leaves: its spec cache directory exists."""
    made = Settings(state_dir=tmp_path / "state")
    made.spec_cache_dir.mkdir(parents=True)
    return made


def _checked(result: Validated) -> list[str]:
    return sorted(set(result.spec.team_names) - result.reused)


def _violations(result: Validated) -> list[str]:
    return [str(v) for v in result.report.violations]


def _grow(root: Path) -> str:
    """alpha grows past the cap; its new input digest."""
    _write(root, {"services": GROWN})
    return team_digests(load_platform(root))["alpha"]


def _over(result: Validated) -> str:
    [message] = _violations(result)
    count = message.split("renders ")[1].split(" ")[0]
    assert message == OVER.format(count=count) and int(count) > CAP
    return message


def _forge(settings: Settings, teams: dict[str, str], key: bytes) -> None:
    body = json.dumps({"format": 1, "teams": teams}).encode()
    mac = hmac.digest(key, body, "sha256")
    (settings.spec_cache_dir / verdicts.FILE).write_bytes(b"gpverd1\0" + mac + body)


def test_only_the_changed_team_is_checked_and_a_passing_run_records_it(
        tmp_path: Path, settings: Settings) -> None:
    root = _write(tmp_path / "p")
    first = validate_all(root, settings)
    assert first.report.passed and _checked(first) == ["alpha", "beta"]
    assert _checked(validate_all(root, settings)) == []
    _write(root, beta_cpu="3")
    assert _checked(validate_all(root, settings)) == ["beta"]
    assert _checked(validate_all(root, settings)) == []
    assert _checked(validate_all(root, settings, full=True)) == ["alpha", "beta"]


def test_a_team_grown_past_its_cap_is_checked_and_refused(
        tmp_path: Path, settings: Settings) -> None:
    root = _write(tmp_path / "p")
    assert validate_all(root, settings).report.passed  # alpha's old digest passed
    _grow(root)
    result = validate_all(root, settings)
    assert _checked(result) == ["alpha"]
    _over(result)
    # a failing run records nothing: alpha stays unchecked-for, however often it runs
    assert _checked(validate_all(root, settings)) == ["alpha"]


def test_a_forged_verdict_for_the_new_digest_is_not_trusted(
        tmp_path: Path, settings: Settings) -> None:
    """The digest is public (anyone can compute it from the specs); the signature is not.
    A verdict signed with any key but the state's own is ignored."""
    root = _write(tmp_path / "p")
    validate_all(root, settings)
    grown = _grow(root)
    beta = team_digests(load_platform(root))["beta"]
    _forge(settings, {"alpha": grown, "beta": beta}, b"k" * 32)
    result = validate_all(root, settings)
    assert _checked(result) == ["alpha", "beta"]
    _over(result)
    # the control: the same entry under the state's key would let alpha through, so it
    # is the signature alone that refused it above
    _forge(settings, {"alpha": grown, "beta": beta}, secret_key(settings.spec_cache_dir))
    assert validate_all(root, settings).report.passed


@pytest.mark.parametrize("damage", ["flipped", "truncated", "garbage", "empty", "oversize",
                                    "shape", "link", "fifo"])
def test_a_damaged_verdict_file_is_ignored_and_rebuilt(
        tmp_path: Path, settings: Settings, damage: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = _write(tmp_path / "p")
    validate_all(root, settings)
    path = settings.spec_cache_dir / verdicts.FILE
    good = path.read_bytes()
    key = secret_key(settings.spec_cache_dir)
    path.unlink()
    if damage == "flipped":  # one character of alpha's digest changed, signature kept
        at = good.index(b'"alpha":"sha256:') + len(b'"alpha":"sha256:')
        path.write_bytes(good[:at] + (b"1" if good[at:at + 1] != b"1" else b"2")
                         + good[at + 1:])
    elif damage == "truncated":
        path.write_bytes(good[:-10])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(good)))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "oversize":
        monkeypatch.setattr(verdicts, "MAX_BYTES", len(good) - 1)
        path.write_bytes(good)
    elif damage == "shape":  # signed, but not digests: never a verdict
        _forge(settings, {"alpha": "yes", "beta": "yes"}, key)
    elif damage == "link":  # a link to a valid file is not followed
        (tmp_path / "elsewhere").write_bytes(good)
        path.symlink_to(tmp_path / "elsewhere")
    else:
        os.mkfifo(path)  # never waited on
    result = validate_all(root, settings)
    assert result.report.passed and _checked(result) == ["alpha", "beta"]
    monkeypatch.undo()
    assert _checked(validate_all(root, settings)) == []  # rewritten, signed afresh
    assert path.is_file() and not path.is_symlink()


def test_new_code_checks_every_team_again(
        tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _write(tmp_path / "p")
    validate_all(root, settings)
    monkeypatch.setattr(fingerprint, "unit_fingerprint", lambda: "new guardrails")
    assert _checked(validate_all(root, settings)) == ["alpha", "beta"]


def test_the_global_guardrails_still_count_the_teams_not_checked(
        tmp_path: Path, settings: Settings) -> None:
    """capacity sums every team's quota: beta's change overflows prod with alpha's
    quota, which is not checked again but still counted (and named the largest)."""
    capacity = {"cpu": "7", "memory": "1Ti"}
    root = _write(tmp_path / "p", {"quota": {"cpu": "4", "memory": "4Gi"}}, capacity=capacity)
    assert validate_all(root, settings).report.passed
    _write(root, {"quota": {"cpu": "4", "memory": "4Gi"}}, beta_cpu="3.5", capacity=capacity)
    result = validate_all(root, settings)
    assert _checked(result) == ["beta"]
    assert _violations(result) == [
        "[capacity] cluster prod: team quotas request 7500m cpu, more than the cluster's "
        "capacity 7; largest: alpha-prod 4, beta-prod 3500m"]


def test_verdicts_are_kept_for_the_teams_of_the_spec_only(
        tmp_path: Path, settings: Settings) -> None:
    root = _write(tmp_path / "p")
    validate_all(root, settings)
    (root / "teams" / "beta.yaml").unlink()
    assert validate_all(root, settings).report.passed
    body = (settings.spec_cache_dir / verdicts.FILE).read_bytes()[8 + 32:]
    assert list(json.loads(body)["teams"]) == ["alpha"]


def test_without_the_state_of_an_apply_every_team_is_checked_and_nothing_is_written(
        tmp_path: Path) -> None:
    root = _write(tmp_path / "p")
    settings = Settings(state_dir=tmp_path / "state")
    for _ in range(2):
        assert _checked(validate_all(root, settings)) == ["alpha", "beta"]
    assert not (tmp_path / "state").exists()


def test_apply_records_the_teams_it_checked(tmp_path: Path, remote: Path) -> None:
    root = _write(tmp_path / "p")
    settings = Settings(state_dir=tmp_path / "state")
    gitops.apply(root, str(remote), settings=settings)
    assert _checked(validate_all(root, settings)) == []
    _write(root, beta_cpu="3")
    gitops.apply(root, str(remote), settings=settings)
    assert _checked(validate_all(root, settings)) == []
    _grow(root)
    _over(validate_all(root, settings))


def test_render_checks_only_what_changed_yet_writes_every_team(
        tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _write(tmp_path / "p")
    assert validate_all(root, settings).report.passed
    full = load_and_check(root)
    checked: list[list[str]] = []
    real = policy.enforce_teams

    def spy(spec: PlatformSpec, names: Iterable[str], bundle: Bundle) -> Report:
        checked.append(sorted(names))
        return real(spec, names, bundle)

    monkeypatch.setattr(policy, "enforce_teams", spy)
    again = load_and_check(root, settings)
    assert again.bundle == full.bundle and checked == [[]]
    assert write_tree(again, tmp_path / "a") == write_tree(full, tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    _grow(root)
    with pytest.raises(PolicyViolation) as refused:
        load_and_check(root, settings)
    assert checked[-1] == ["alpha"]
    assert [str(v) for v in refused.value.violations] == [_over(validate_all(root, settings))]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def test_a_first_apply_keeps_what_it_parsed_only_once_it_succeeded(
        tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _write(tmp_path / "p")
    settings = Settings(state_dir=tmp_path / "state")
    with pytest.raises(GitError):
        gitops.apply(root, str(tmp_path / "no-such-remote.git"), settings=settings)
    assert not settings.spec_cache_dir.exists()
    gitops.apply(root, str(remote), settings=settings)
    parsed: list[str] = []
    real = loader._parse

    def spy(path: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(loader, "_parse", spy)
    _write(root, beta_cpu="3")
    assert _checked(validate_all(root, settings)) == ["beta"]
    assert parsed == ["beta.yaml"]  # platform.yaml and alpha's file came from the cache


def test_validate_pauses_the_cyclic_collector_and_hands_it_back(
        tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """validate, like load_and_check, loads and renders without the cyclic collector (it
    rescans a heap that grows with the platform: ~8% of a one-team validate at 1,000
    teams), and resumes it as it found it."""
    root = _write(tmp_path / "p")
    enabled: list[bool] = []
    real = loader.load_platform

    def spy(*args: Any, **kwargs: Any) -> PlatformSpec:
        enabled.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr("goldenpath.services.platform.load_platform", spy)
    assert gc.isenabled()
    assert validate_all(root, settings).report.passed
    assert enabled == [False] and gc.isenabled()


def _digests(count: int, changed: str = "") -> dict[str, str]:
    return {f"t{i:02}": "sha256:" + hashlib.sha256(f"{i}{changed if i == 0 else ''}".encode()
                                                   ).hexdigest() for i in range(count)}


def test_a_one_team_verdict_is_written_as_a_delta_not_every_verdict_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1,000 teams the verdicts are ~100 KB: one team checked again writes (and syncs)
    a small signed delta beside them; read back, the two hold exactly what a full
    rewrite holds."""
    state = tmp_path / "state"
    first = _digests(40)
    verdicts.Verdicts.open(state).save(first, first)
    full = (state / verdicts.FILE).stat().st_size
    written: dict[str, int] = {}
    real = verdicts.write_atomic

    def spy(path: Path, data: bytes) -> None:
        written[path.name] = len(data)
        real(path, data)

    monkeypatch.setattr(verdicts, "write_atomic", spy)
    second = _digests(39, changed="new")  # t00 checked again, t39 gone
    verdicts.Verdicts.open(state).save(second, ["t00"])
    assert verdicts.FILE not in written and 0 < written[verdicts.DELTA] < full // 10
    assert verdicts.Verdicts.open(state).passed({**first, **second}) == frozenset(second)
    assert verdicts.Verdicts.open(state)._passed == second
    written.clear()
    verdicts.Verdicts.open(state).save(second, ["t00"])
    assert written == {}  # nothing changed: nothing written


def test_a_verdict_delta_not_signed_for_these_verdicts_is_ignored(tmp_path: Path) -> None:
    """A delta counts only signed by the state's key for the very verdict file beside
    it: re-signed by anyone else, or left from before the file was rewritten whole, its
    verdicts let no team through."""
    state = tmp_path / "state"
    first, second = _digests(40), _digests(40, changed="new")
    verdicts.Verdicts.open(state).save(first, first)
    verdicts.Verdicts.open(state).save(second, ["t00"])
    delta = (state / verdicts.DELTA).read_bytes()
    head = len(verdicts._DELTA_MAGIC)
    (state / verdicts.DELTA).write_bytes(delta[:head] + bytes(32) + delta[head + 32:])
    assert verdicts.Verdicts.open(state).passed(second) == frozenset(second) - {"t00"}
    (state / verdicts.DELTA).write_bytes(delta)
    assert verdicts.Verdicts.open(state).passed(second) == frozenset(second)
    # rewritten whole (every team checked under other digests): the old delta is stale
    third = _digests(40, changed="x") | {f"t{i:02}": "sha256:" + "0" * 64 for i in range(1, 40)}
    verdicts.Verdicts.open(state).save(third, third)
    (state / verdicts.DELTA).write_bytes(delta)
    assert verdicts.Verdicts.open(state).passed(second) == frozenset()
    assert verdicts.Verdicts.open(state).passed(third) == frozenset(third)
