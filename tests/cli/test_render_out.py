"""`render --out` never deletes what goldenpath does not own.

Replacing a directory as a whole is safe only when every entry in it is a file
goldenpath's ownership manifests there record; a clone of the control repository (its
``.git``), a file of someone's own, an extra directory or a sibling that happens to have
the name of goldenpath's scratch directories must survive, and the command must fail
(exit 1) without changing anything.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from goldenpath.cli import app
from tests.factories import platform_doc, team_doc, write_platform


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def platform(tmp_path: Path) -> Path:
    return write_platform(tmp_path / "platform", platform_doc(), [team_doc("alpha")])


def _render(platform: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["render", "--platform", str(platform), "--out", str(out)],
                                terminal_width=400)
    return result.exit_code, " ".join(result.output.split())


def _snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under root: file bytes, or the kind of a non-file."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = path.read_bytes()
    return found


def test_render_into_a_clone_of_the_control_repository_is_refused(
    platform: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote.git"
    _git("init", "--bare", "-q", "-b", "main", str(remote))
    monkeypatch.setenv("GOLDENPATH_STATE_DIR", str(tmp_path / "state"))
    applied = CliRunner().invoke(app, ["apply", "--platform", str(platform), "--repo",
                                       str(remote)])
    assert applied.exit_code == 0, applied.output
    clone = tmp_path / "clone"
    _git("clone", "-q", str(remote), str(clone))
    (clone / "NOTES.md").write_text("ours\n")
    before = _snapshot(clone)
    assert (clone / ".goldenpath/owned").is_dir()  # goldenpath's manifests are there

    code, output = _render(platform, clone)

    assert code == 1
    assert (f"error: {clone} holds files goldenpath did not write (.git/, NOTES.md); it "
            "replaces only a directory it wrote, so nothing was changed") in output
    assert _snapshot(clone) == before
    assert _git("status", "--porcelain", cwd=clone) == "?? NOTES.md\n"


@pytest.mark.parametrize("intruder", ["file", "empty-dir", "symlink", "nested-file",
                                      "foreign-manifest-dir"])
def test_one_foreign_entry_in_a_rendered_tree_refuses_the_render(
    platform: Path, tmp_path: Path, intruder: str
) -> None:
    out = tmp_path / "out"
    assert _render(platform, out)[0] == 0
    name = {
        "file": "mine.txt",
        "empty-dir": "scratch/",
        "symlink": "link",
        "nested-file": "tenants/alpha/dev/my-secret-notes.yaml",
        "foreign-manifest-dir": ".goldenpath/owned/sub/",
    }[intruder]
    target = out / name.rstrip("/")
    if name.endswith("/"):
        target.mkdir()
    elif intruder == "symlink":
        target.symlink_to(tmp_path)
    else:
        target.write_text("mine\n")
    before = _snapshot(out)

    code, output = _render(platform, out)

    assert code == 1
    assert f"holds files goldenpath did not write ({name})" in output
    assert _snapshot(out) == before


def test_a_manifest_cannot_claim_files_outside_what_it_recorded(
    platform: Path, tmp_path: Path
) -> None:
    """An unreadable or foreign manifest claims nothing: the files stay foreign."""
    out = tmp_path / "out"
    out.mkdir()
    (out / ".goldenpath/owned").mkdir(parents=True)
    (out / ".goldenpath/owned/x.txt").write_bytes(b"\xff\xfe not a manifest")
    (out / "data.db").write_text("precious")
    code, output = _render(platform, out)
    assert code == 1
    assert "holds files goldenpath did not write (data.db)" in output
    assert (out / "data.db").read_text() == "precious"


def test_a_rendered_tree_is_replaced_and_siblings_are_kept(
    platform: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert _render(platform, out)[0] == 0
    # the names the old code used for its scratch directories
    for sibling in (".out.old", ".out.keep"):
        (tmp_path / sibling).mkdir()
        (tmp_path / sibling / "kept.txt").write_text("kept")
    (out / "tenants/alpha/dev/namespace-alpha-dev.yaml").write_text("edited by hand\n")

    code, output = _render(platform, out)

    assert code == 0, output
    assert "edited by hand" not in (out / "tenants/alpha/dev/namespace-alpha-dev.yaml").read_text()
    assert (tmp_path / ".out.old/kept.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".out.keep", ".out.old", "out", "platform"]


def test_out_that_is_a_file_is_an_error(platform: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("a file")
    code, output = _render(platform, out)
    assert code == 1
    # typer's own check (file_okay=False), in a box that wraps the path anywhere
    assert "isafile." in "".join(c for c in output if c not in "│ ")
    assert out.read_text() == "a file"


def test_unwritable_out_is_an_error_not_a_traceback(platform: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "out"
    code, output = _render(platform, out)
    assert code == 1
    assert f"error: cannot write the tree to {out}: " in output
    assert "choose a directory you can write for --out" in output
    assert "Traceback" not in output
