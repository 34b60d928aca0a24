"""checkov's Kubernetes checks over both overlays of goldenpath's own deployment, as over
the golden-path manifests: no failed check except those in ``deploy/checkov-skips.yaml``,
each with a reason, and no entry there that nothing fails any more."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, OVERLAYS, Objects
from tests.templates.checkov_env import failed_checks, skips

SKIP_FILE = DEPLOY / "checkov-skips.yaml"


def test_every_skip_says_why() -> None:
    reasons = skips(SKIP_FILE)
    assert reasons
    assert all(len(reason.split()) >= 8 for reason in reasons.values()), reasons


@pytest.mark.slow
def test_overlays_pass_checkov(built: dict[str, Objects], tmp_path: Path) -> None:
    for name in OVERLAYS:
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump_all(built[name], sort_keys=False))
    failed = failed_checks(tmp_path)
    reasons = skips(SKIP_FILE)
    unexpected = sorted({f"{c['check_id']} {c['check_name']} ({c['resource']})"
                         for c in failed if c["check_id"] not in reasons})
    assert unexpected == []
    assert {c["check_id"] for c in failed} == set(reasons)
