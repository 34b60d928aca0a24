"""Each part of the metrics contract a template reads has a default in its
``cookiecutter.json`` (used when someone runs cookiecutter on the template directly) and
is passed by the scaffolder (:func:`goldenpath.render.metrics.template_context`)."""

from __future__ import annotations

import json
import re

import pytest

from goldenpath.render import metrics
from tests.factories import ROOT

READ = re.compile(r"cookiecutter\.metrics\.(\w+)")


@pytest.mark.parametrize("template", ["python-service", "python-worker"])
def test_every_contract_part_a_template_reads_is_given(template: str) -> None:
    root = ROOT / "templates" / template
    read = {key for path in root.rglob("*") if path.is_file()
            for key in READ.findall(path.read_text(errors="replace"))}
    assert read  # the scan finds what the templates use
    defaults = json.loads((root / "cookiecutter.json").read_text())["metrics"]
    assert read <= set(defaults)
    assert read <= set(metrics.template_context())


def test_the_service_template_defaults_to_the_contracts_probe_routes() -> None:
    defaults = json.loads((ROOT / "templates/python-service/cookiecutter.json").read_text())
    assert defaults["metrics"]["probe_routes"] == list(metrics.PROBE_ROUTES)


@pytest.mark.parametrize("template", ["python-service", "python-worker"])
def test_the_templates_default_to_the_renderers_team_label(template: str) -> None:
    defaults = json.loads((ROOT / "templates" / template / "cookiecutter.json").read_text())
    assert defaults["metrics"]["team_label"] == metrics.template_context()["team_label"]
