"""A team file is edited while others read it (the API loads the specs while its worker
scaffolds): a reader never sees half a file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from goldenpath.scaffold import teamfile
from tests.scaffold.helpers import Workspace


def test_a_team_file_is_replaced_whole_never_seen_half_written(workspace: Workspace) -> None:
    path: Path = workspace.team_file
    original = path.read_text()
    reset = path.with_name(".reset")
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(len(path.read_text()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(200):
            reset.write_text(original)
            os.replace(reset, path)  # the test's own reset, whole
            teamfile.add_service(path, {"name": f"s{n}", "template": "python-service"})
    finally:
        done.set()
        reader.join()
    whole = {len(original)} | {
        len(teamfile.with_service(original, str(path), {"name": f"s{n}",
                                                         "template": "python-service"}))
        for n in range(200)}
    assert seen <= whole, sorted(seen - whole)[:5]
