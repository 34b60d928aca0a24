from __future__ import annotations

from pathlib import Path

import pytest

from tests.scaffold.helpers import Workspace, make_workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)
