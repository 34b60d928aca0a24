"""The state directory on a full disk, and caches cut short as a full disk leaves them
(issue 13, item 3): a clear error, no cache left that would be trusted, and the next run
rebuilds what it cannot trust.

The disk fills for real: ``goldenpath`` runs as a process of its own under
``RLIMIT_FSIZE`` (set in the child before it starts), so every write past the limit
fails with EFBIG in goldenpath itself and kills the git it runs with SIGXFSZ, as the
kernel does. A cache file cut short (what a non-atomic write leaves when the disk fills)
is made by truncating the real file.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from goldenpath.gitops import base
from goldenpath.spec import cache as spec_cache
from goldenpath.statefile import ROOM
from tests.factories import EXAMPLE_PLATFORM, ROOT

pytestmark = pytest.mark.slow


def _cli(here: Path, *args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """``goldenpath`` in ``here`` (state in ``here/state``, this checkout's templates),
    its files at most ``limit`` bytes each when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    env.update(PYTHONPATH=os.pathsep.join(sys.path), GOLDENPATH_STATE_DIR="state",
               GOLDENPATH_TEMPLATES_ROOT=str(ROOT))

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-c", "from goldenpath.cli import main; main()",
                           *args], cwd=here, env=env, preexec_fn=limited, text=True,
                          capture_output=True, timeout=300, check=False)


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def here(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE_PLATFORM, tmp_path / "platform")
    _git("init", "--bare", "-q", "-b", "main", str(tmp_path / "remote.git"), cwd=tmp_path)
    return tmp_path


def _edit(here: Path, line: str) -> None:
    team = here / "platform" / "teams" / "payments.yaml"
    team.write_text(team.read_text() + f"# {line}\n")


def _cache_repository(here: Path) -> Path:
    (found,) = (here / "state" / "cache").glob("*.git")
    return found


def _leftovers(state: Path) -> list[str]:
    """Files a write that failed would leave: temporary files beside a cache file, and
    git's lock files in the cache repository."""
    return sorted(p.relative_to(state).as_posix() for p in state.rglob("*")
                  if p.name.startswith((f".{base.FILE}.", f".{spec_cache.INDEX}.",
                                        f".{spec_cache.KEY}."))
                  or (p.name.endswith(".lock") and p.parent != state / "cache"))


def test_apply_on_a_full_disk_says_so_and_the_next_run_recovers(here: Path) -> None:
    remote = here / "remote.git"
    assert _cli(here, "apply", "--repo", str(remote)).returncode == 0
    _edit(here, "first")
    assert _cli(here, "apply", "--repo", str(remote)).returncode == 0  # caches made
    before = _git("rev-parse", "main", cwd=remote)

    _edit(here, "second")
    full = _cli(here, "apply", "--repo", str(remote), limit=1)
    assert full.returncode == 1, full.stdout + full.stderr
    assert "Traceback" not in full.stderr
    assert " ".join(full.stderr.split()) == (
        f"error: cannot fetch branch main from {remote}: git was killed by SIGXFSZ: a file "
        f"it wrote outgrew the file size limit (the disk is full); {ROOM}")
    assert _git("rev-parse", "main", cwd=remote) == before  # nothing pushed
    assert _leftovers(here / "state") == []  # no lock left by the killed git

    again = _cli(here, "apply", "--repo", str(remote))
    assert again.returncode == 0, again.stdout + again.stderr
    assert _git("log", "-1", "--format=%P", cwd=remote).strip() == before.strip()
    assert "# second" in _git("show", "main:platform/teams/payments.yaml", cwd=remote)
    for repository in (remote, _cache_repository(here)):
        _git("fsck", "--strict", "--no-dangling", cwd=repository)


def test_new_service_on_a_full_disk_says_so_and_leaves_nothing(here: Path) -> None:
    team = here / "platform" / "teams" / "payments.yaml"
    before = team.read_bytes()
    args = ("new-service", "-t", "payments", "-n", "refunds", "--template", "python-worker",
            "--param", "queue=refunds")
    full = _cli(here, *args, limit=1)
    assert full.returncode == 1, full.stdout + full.stderr
    assert "Traceback" not in full.stderr
    message = " ".join(full.stderr.split())
    assert message.startswith("error: cannot render template python-worker: ")
    assert message.endswith(f": File too large; {ROOM}")
    assert team.read_bytes() == before
    assert not (here / "state" / "repos" / "payments" / "refunds.git").exists()

    made = _cli(here, *args)
    assert made.returncode == 0, made.stdout + made.stderr
    repository = here / "state" / "repos" / "payments" / "refunds.git"
    assert _git("rev-list", "--count", "main", cwd=repository).strip() == "1"
    assert team.read_text().count("- name: refunds") == 1


def test_a_cache_that_cannot_be_saved_fails_nothing(here: Path) -> None:
    """Every cache write fails past 1 KiB (the spec index, the models, the analysis of
    the base): the command does its work without them and leaves no part of one."""
    remote = here / "remote.git"
    assert _cli(here, "apply", "--repo", str(remote)).returncode == 0
    _edit(here, "first")
    (_cache_repository(here) / base.FILE).unlink(missing_ok=True)  # analysed again: 30 KiB
    shutil.rmtree(here / "state" / "cache" / "spec")
    (here / "state" / "cache" / "spec").mkdir()
    planned = _cli(here, "plan", "--repo", str(remote), limit=1024)
    assert planned.returncode == 2, planned.stdout + planned.stderr  # changes to apply
    assert "Traceback" not in planned.stderr
    assert not (_cache_repository(here) / base.FILE).exists()
    assert _leftovers(here / "state") == []


# --- caches cut short ---------------------------------------------------------------------


def _halve(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _models(here: Path) -> list[Path]:
    return sorted((here / "state" / "cache" / "spec" / spec_cache.MODELS).glob("*.json"))


CUTS: dict[str, Callable[[Path], list[Path]]] = {
    "the spec index": lambda here: [here / "state" / "cache" / "spec" / spec_cache.INDEX],
    "every spec model": _models,
    "the analysis of the base": lambda here: [_cache_repository(here) / base.FILE],
}


@pytest.mark.parametrize("cut", CUTS)
def test_a_cache_file_cut_short_is_not_trusted_and_is_rebuilt(here: Path, cut: str) -> None:
    remote = here / "remote.git"
    assert _cli(here, "apply", "--repo", str(remote)).returncode == 0
    _edit(here, "first")
    assert _cli(here, "apply", "--repo", str(remote)).returncode == 0  # caches made
    _edit(here, "second")
    expected = _cli(here, "plan", "--repo", str(remote))
    assert expected.returncode == 2

    files = CUTS[cut](here)
    assert files
    for file in files:
        _halve(file)
    planned = _cli(here, "plan", "--repo", str(remote))
    assert (planned.returncode, planned.stdout, planned.stderr) == \
        (expected.returncode, expected.stdout, expected.stderr)
    applied = _cli(here, "apply", "--repo", str(remote))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "# second" in _git("show", "main:platform/teams/payments.yaml", cwd=remote)
    # what was cut short was written whole again
    assert all(file.stat().st_size > 0 for file in CUTS[cut](here))
    assert _cli(here, "plan", "--repo", str(remote)).returncode == 0  # nothing left to do
