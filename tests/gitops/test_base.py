"""The base analysis kept beside the cache repository: moved forward with diff-tree, it is
exactly what reading the commit from scratch gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from goldenpath.errors import Conflict, FileSystemError
from goldenpath.gitops import base, specfiles
from goldenpath.gitops.ownership import UnitState
from goldenpath.gitops.repo import Remote, Workspace
from goldenpath.gitops.tree import BaseTree, LazyBlobs
from goldenpath.services import gitops
from goldenpath.services import teams as svc
from goldenpath.settings import Settings
from tests.factories import team_doc
from tests.gitops.conftest import git, teams

Make = Callable[..., Path]
SettingsFor = Callable[[str], Settings]


def _read(remote: Path, settings: Settings) -> tuple[BaseTree, BaseTree, str | None, str]:
    """(the base as the saved analysis gives it, from scratch, the commit of the saved
    analysis it started from (None: none), the commit of the one saved after)."""
    with Workspace.open(settings.state_dir / "cache", Remote(str(remote))) as ws:
        head = ws.fetch("main")
        assert head is not None
        before = base._Pack.open(ws.path / base.FILE)
        kept = base.read(ws, head)
        saved = base._Pack.open(ws.path / base.FILE)
        assert saved is not None
        return (kept, base._from_scratch(ws, head), before and before.head, saved.head)


def _same(a: BaseTree, b: BaseTree) -> None:
    assert {u: (r.fingerprint, r.inputs, dict(r.blobs)) for u, r in a.records.items()} == \
        {u: (r.fingerprint, r.inputs, dict(r.blobs)) for u, r in b.records.items()}
    assert a.drift_entries == b.drift_entries
    assert a.unowned == b.unowned
    assert a.drift == b.drift
    assert dict(a.blobs) == dict(b.blobs)


def test_a_saved_analysis_follows_later_commits(
    remote: Path, tmp_path: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    settings = settings_for("a")
    gitops.apply(make_platform("p1", teams("alpha", "beta")), str(remote), settings=settings)
    first = git("rev-parse", "main", cwd=remote).strip()
    gitops.apply(make_platform("p2", teams("alpha", "beta", beta={"quota": {"cpu": "9"}})),
                 str(remote), settings=settings)
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    (clone / "tenants/alpha/dev/resourcequota-quota.yaml").unlink()
    (clone / "NOTES.md").write_text("ours\n")
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "hand edits", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    gitops.apply(make_platform("p3", teams("beta")), str(remote), settings=settings_for("b"),
                 allow_offboarding=True)

    kept, scratch, started, _ = _read(remote, settings)
    assert started == first  # moved forward by diff-tree, not read again
    _same(kept, scratch)
    assert "team-alpha" not in kept.records and "NOTES.md" in kept.blobs


def test_a_damaged_or_stale_analysis_is_read_afresh(
    remote: Path, make_platform: Make, settings_for: SettingsFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for("a")
    gitops.apply(make_platform("p1", teams("alpha")), str(remote), settings=settings)
    gitops.apply(make_platform("p2", teams("alpha", "beta")), str(remote), settings=settings)
    head = git("rev-parse", "main", cwd=remote).strip()
    monkeypatch.setattr(base, "SAVE_AFTER", 0)
    kept, scratch, _, saved = _read(remote, settings)
    assert saved == head
    _same(kept, scratch)
    path = next((settings.state_dir / "cache").glob(f"*.git/{base.FILE}"))
    path.write_bytes(b"damaged")
    kept, scratch, _, _ = _read(remote, settings)
    _same(kept, scratch)


# --- moving a saved analysis forward over what people do to the repository ----------------


@pytest.fixture
def saved(remote: Path, tmp_path: Path, make_platform: Make,
          settings_for: SettingsFor) -> tuple[Settings, Path]:
    """Teams alpha and beta applied, the analysis saved at that commit, and a clone."""
    settings = settings_for("a")
    gitops.apply(make_platform("p1", teams("alpha", "beta")), str(remote), settings=settings)
    kept, scratch, _, _ = _read(remote, settings)
    _same(kept, scratch)
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    return settings, clone


def _push(clone: Path, message: str) -> None:
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", message, cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)


def _moved(remote: Path, settings: Settings) -> BaseTree:
    """The analysis at the remote's head, moved forward from the saved one and checked
    against reading that commit from scratch."""
    kept, scratch, started, _ = _read(remote, settings)
    assert started is not None  # moved forward by diff-tree, not read from scratch
    _same(kept, scratch)
    return kept


QUOTA = "tenants/alpha/dev/resourcequota-quota.yaml"


def test_drift_appears_and_goes_as_the_analysis_moves(
    remote: Path, saved: tuple[Settings, Path], make_platform: Make,
    settings_for: SettingsFor,
) -> None:
    settings, clone = saved
    (clone / QUOTA).write_text("edited by hand\n")
    _push(clone, "hand edit")
    assert [d.path for d in _moved(remote, settings).drift] == [QUOTA]
    # another applier changes beta, and rewrites alpha's file: the drift is gone
    gitops.apply(make_platform("p2", teams("alpha", "beta", beta={"quota": {"cpu": "9"}})),
                 str(remote), settings=settings_for("b"))
    assert _moved(remote, settings).drift == []


def test_a_file_added_by_hand_where_a_team_will_write(
    remote: Path, saved: tuple[Settings, Path], make_platform: Make,
) -> None:
    settings, clone = saved
    path = "tenants/gamma/dev/namespace-gamma-dev.yaml"
    (clone / path).parent.mkdir(parents=True)
    (clone / path).write_text("mine\n")
    _push(clone, "a file of our own")
    moved = _moved(remote, settings)
    assert path in moved.unowned and path in moved.blobs
    with pytest.raises(Conflict, match=f"{path} exists in the repository but goldenpath "
                                       "does not own it"):
        gitops.apply(make_platform("p2", teams("alpha", "beta", "gamma")), str(remote),
                     settings=settings)
    assert _moved(remote, settings).unowned[path]


def test_a_path_moved_between_units_by_hand(
    remote: Path, saved: tuple[Settings, Path],
) -> None:
    settings, clone = saved
    alpha, beta = (clone / ".goldenpath/owned" / f"team-{t}.txt" for t in ("alpha", "beta"))
    line = next(x for x in alpha.read_text().splitlines() if x.endswith(QUOTA))
    alpha.write_text("".join(f"{x}\n" for x in alpha.read_text().splitlines() if x != line))
    beta.write_text(beta.read_text() + line + "\n")
    _push(clone, "alpha's quota is beta's now")
    moved = _moved(remote, settings)
    assert QUOTA in moved.records["team-beta"].blobs
    assert QUOTA not in moved.records["team-alpha"].blobs and QUOTA not in moved.unowned


def test_a_manifest_deleted_by_hand_leaves_its_files_unowned(
    remote: Path, saved: tuple[Settings, Path],
) -> None:
    settings, clone = saved
    (clone / ".goldenpath/owned/team-alpha.txt").unlink()
    _push(clone, "forget alpha")
    moved = _moved(remote, settings)
    assert "team-alpha" not in moved.records and QUOTA in moved.unowned


def test_a_hand_edit_and_its_revert_across_commits(
    remote: Path, saved: tuple[Settings, Path],
) -> None:
    settings, clone = saved
    original = (clone / QUOTA).read_text()
    (clone / QUOTA).unlink()
    _push(clone, "delete by hand")
    [gone] = _moved(remote, settings).drift
    assert gone.path == QUOTA and gone.current is None
    (clone / QUOTA).write_text(original)
    _push(clone, "put it back")
    assert _moved(remote, settings).drift == []


def test_a_one_team_change_reads_only_that_teams_paths(
    remote: Path, saved: tuple[Settings, Path], make_platform: Make,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, _ = saved
    read: list[str] = []
    real = base._Pack.records

    def spy(pack: base._Pack) -> dict[str, UnitState]:
        records = real(pack)
        for unit, record in records.items():
            assert isinstance(record.blobs, LazyBlobs)
            load = record.blobs._read
            assert load is not None

            def recorded(unit: str = unit, load: Callable[[], dict[str, str]] = load
                         ) -> dict[str, str]:
                read.append(unit)
                return load()
            record.blobs._read = recorded
        return records

    monkeypatch.setattr(base._Pack, "records", spy)
    result = gitops.apply(make_platform("p2", teams("alpha", "beta", beta={"quota": {"cpu": "9"}})),
                          str(remote), settings=settings)
    assert result.commit is not None
    assert sorted(read) == ["layout", "team-beta"]  # not alpha, not the clusters


def test_a_read_analysis_survives_its_file_being_replaced(
    remote: Path, saved: tuple[Settings, Path], make_platform: Make,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, _ = saved
    with Workspace.open(settings.state_dir / "cache", Remote(str(remote))) as ws:
        head = ws.fetch("main")
        assert head is not None
        old = base.read(ws, head)  # nothing of a unit read yet
        expected = base._from_scratch(ws, head)
    gitops.apply(make_platform("p2", teams("beta")), str(remote), settings=settings,
                 allow_offboarding=True)
    monkeypatch.setattr(base, "SAVE_AFTER", 0)
    kept, _, _, at = _read(remote, settings)  # saved again, over the file `old` reads
    assert at != head and "team-alpha" not in kept.records
    _same(old, expected)


def test_an_analysis_that_had_to_read_every_unit_is_saved_at_once(
    remote: Path, saved: tuple[Settings, Path],
) -> None:
    settings, clone = saved
    (clone / "NOTES.md").write_text("ours\n")  # nobody's, and new: whose could it be?
    _push(clone, "a file of our own")
    head = git("rev-parse", "main", cwd=remote).strip()
    kept, scratch, started, now = _read(remote, settings)
    assert started != head and now == head  # not read again by the next apply
    _same(kept, scratch)
    (clone / "NOTES.md").write_text("still ours\n")  # known to be nobody's: no reading
    _push(clone, "edit it")
    kept, scratch, started, now = _read(remote, settings)
    assert started == now == head  # moved forward without reading every unit
    _same(kept, scratch)


# --- a planted or altered analysis is never trusted ----------------------------------------


class _Planted:
    """A pickle that would create ``marker`` if anything unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.touch, (self.marker,))


def _saved_analysis(remote: Path, make_platform: Make, settings: Settings) -> Path:
    gitops.apply(make_platform("p1", teams("alpha", "beta")), str(remote), settings=settings)
    _read(remote, settings)
    return next((settings.state_dir / "cache").glob(f"*.git/{base.FILE}"))


def test_a_planted_pickle_is_never_loaded(remote: Path, tmp_path: Path, make_platform: Make,
                                          settings_for: SettingsFor) -> None:
    import pickle
    import struct

    settings = settings_for("a")
    path = _saved_analysis(remote, make_platform, settings)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Planted(marker))
    # the file as the previous format wrote it, and with this format's magic and a MAC
    # the attacker cannot compute
    for magic in (b"goldenpath-base 2\n", base._MAGIC + b"\0" * 32):
        path.write_bytes(magic + struct.pack("<Q", len(payload)) + payload)
        kept, scratch, started, _ = _read(remote, settings)
        assert started is None  # refused, read from scratch
        _same(kept, scratch)
        assert not marker.exists()
    pickle.loads(payload)  # the payload is live: unpickling it does create the marker
    assert marker.exists()


def test_a_header_signed_with_another_key_is_refused(
    remote: Path, make_platform: Make, settings_for: SettingsFor,
) -> None:
    settings = settings_for("a")
    path = _saved_analysis(remote, make_platform, settings)
    assert base._Pack.open(path) is not None
    key = path.parent / "spec-cache.key"
    key.write_bytes(b"k" * 32)  # another valid key: the header's MAC no longer verifies
    key.chmod(0o600)
    assert base._Pack.open(path) is None


def test_an_altered_path_map_is_refused_and_removed(
    remote: Path, make_platform: Make, settings_for: SettingsFor,
) -> None:
    import marshal

    settings = settings_for("a")
    path = _saved_analysis(remote, make_platform, settings)
    pack = base._Pack.open(path)
    assert pack is not None
    _, _, at, size, _ = pack.units["team-alpha"]
    data = bytearray(path.read_bytes())
    start = pack._data_at + at
    forged = marshal.dumps({"tenants/alpha/dev/x.yaml": "0" * 40})
    data[start:start + size] = forged.ljust(size, b"\0")[:size]
    path.write_bytes(bytes(data))
    pack = base._Pack.open(path)
    assert pack is not None  # the header is intact
    with pytest.raises(FileSystemError) as info:
        dict(pack.records()["team-alpha"].blobs)
    assert str(info.value) == (f"{path} was changed outside goldenpath (a unit's paths do not "
                               "match its recorded digest); it has been removed: run the "
                               "command again")
    assert not path.exists()


def test_a_chain_of_commits_made_here_knows_each_commits_analysis_without_git(
    remote: Path, saved: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch of changes derives each commit's analysis from the one before and the
    bytes it committed: on a repository with drift, files added and manifests deleted by
    hand, through updates, an onboarding and an offboarding, each is what reading the
    commit from scratch gives, and so are its spec files."""
    settings, clone = saved
    (clone / QUOTA).write_text("edited by hand\n")
    (clone / QUOTA.replace("alpha", "beta")).write_text("edited by hand\n")
    (clone / "NOTES.md").write_text("ours\n")
    (clone / "tenants/beta/dev/extra.yaml").write_text("kind: ConfigMap\n")
    _push(clone, "hand edits")
    where = svc.Where(str(remote), "main", settings)
    derived: list[gitops._Base] = []
    derive = gitops._committed

    def kept(at: gitops._Base, commit: str, change: gitops.ChangeSet) -> gitops._Base:
        derived.append(derive(at, commit, change))
        return derived[-1]

    monkeypatch.setattr(gitops, "_committed", kept)
    alpha, beta = svc.get_team("alpha", where), svc.get_team("beta", where)
    quota = dict(alpha.document, spec={**alpha.document["spec"], "quota": {"cpu": "7"}})
    asks = [svc.updating("alpha", quota, alpha.etag),
            svc.onboarding(team_doc("gamma")),
            svc.offboarding("beta", beta.etag, allow_offboarding=True),
            svc.onboarding(team_doc("delta"))]
    outcomes = svc.make_all([(p, svc.Requester("user:bob@example.com", f"req-{n}"))
                             for n, p in enumerate(asks)], where)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(derived) == len(asks)
    assert derived[-1].head == git("rev-parse", "main", cwd=remote).strip()
    # read once the chain's git fast-import ended (git sees its commits only then)
    ws = Workspace.reading(settings.state_dir / "cache", Remote(str(remote)))
    for made in derived:
        assert made.head is not None
        _same(made.tree, base._from_scratch(ws, made.head))
        assert made.specs == ws.tree(made.head, under=specfiles.SPEC_DIR)
