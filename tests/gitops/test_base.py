"""The base analysis kept beside the cache repository: moved forward with diff-tree, it is
exactly what reading the commit from scratch gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from goldenpath.gitops import base
from goldenpath.gitops.repo import Remote, Workspace
from goldenpath.gitops.tree import BaseTree
from goldenpath.services import gitops
from goldenpath.settings import Settings
from tests.gitops.conftest import git, teams

Make = Callable[..., Path]
SettingsFor = Callable[[str], Settings]


def _read(remote: Path, settings: Settings) -> tuple[BaseTree, BaseTree, str]:
    """(the base as the saved analysis gives it, from scratch, the saved commit)."""
    with Workspace.open(settings.state_dir / "cache", Remote(str(remote))) as ws:
        head = ws.fetch("main")
        assert head is not None
        kept = base.read(ws, head)
        saved = base._Pack.open(ws.path / base.FILE)
        assert saved is not None
        return kept, base._from_scratch(ws, head), saved.head


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
    gitops.apply(make_platform("p3", teams("beta")), str(remote), settings=settings_for("b"))

    kept, scratch, saved = _read(remote, settings)
    assert saved == first  # moved forward by diff-tree, not read again
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
    kept, scratch, saved = _read(remote, settings)
    assert saved == head
    _same(kept, scratch)
    path = next((settings.state_dir / "cache").glob(f"*.git/{base.FILE}"))
    path.write_bytes(b"damaged")
    kept, scratch, _ = _read(remote, settings)
    _same(kept, scratch)
