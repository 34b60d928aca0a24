"""What goldenpath does to the templates' repository: only reads it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from goldenpath.scaffold import vcs


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def test_reading_a_templates_version_writes_nothing_into_its_repository(tmp_path: Path) -> None:
    """``git status`` refreshes the index when files' times changed, writing
    ``index.lock`` and a new index into the platform team's checkout of the templates; a
    git killed meanwhile (a full disk) left the lock behind and that checkout unusable."""
    repo = tmp_path / "templates"
    template = repo / "python-service"
    template.mkdir(parents=True)
    (template / "cookiecutter.json").write_text('{"service_name": "x"}\n')
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "t",
         cwd=repo)
    index = repo / ".git" / "index"
    os.utime(template / "cookiecutter.json", (1, 1))  # stat data no longer what the index says
    before = index.read_bytes(), index.stat().st_mtime_ns

    commit, dirty = vcs.template_commit(template)

    assert commit == _git("rev-parse", "HEAD", cwd=repo).strip()
    assert dirty is False
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
    assert not (repo / ".git" / "index.lock").exists()
