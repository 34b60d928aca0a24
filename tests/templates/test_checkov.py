"""checkov's Kubernetes checks over every composed overlay of every generated project:
no failed check except those in ``templates/checkov-skips.yaml``, each with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.factories import ROOT
from tests.templates.checkov_env import failed_checks
from tests.templates.checkov_env import skips as read_skips
from tests.templates.conftest import Generated

SKIP_FILE = ROOT / "templates" / "checkov-skips.yaml"


def _skips() -> dict[str, str]:
    return read_skips(SKIP_FILE)


def test_every_skip_says_why() -> None:
    skips = _skips()
    assert skips
    assert all(len(reason.split()) >= 8 for reason in skips.values()), skips


@pytest.mark.slow
def test_generated_manifests_pass_checkov(generated: dict[str, Generated],
                                          tmp_path: Path) -> None:
    for name, project in generated.items():
        for env in project.case.environments:
            path = tmp_path / f"{name}-{env}.yaml"
            path.write_text(yaml.safe_dump_all(project.overlay(env), sort_keys=False))
    failed = failed_checks(tmp_path)
    skips = _skips()
    unexpected = sorted({f"{c['check_id']} {c['check_name']} ({c['resource']})"
                         for c in failed if c["check_id"] not in skips})
    assert unexpected == []
    # A skip nothing needs any more is removed, so the list stays honest.
    assert {c["check_id"] for c in failed} == set(skips)
