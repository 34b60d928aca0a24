"""The golden paths against a hostile tenant: spec values that are Jinja or Python, a
hand-edited ``.goldenpath/template.json``, oversized parameters, and what a run leaves in
the temporary directory. Real cookiecutter runs, real git repositories, real pushes."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from goldenpath.errors import SpecError, TemplateError
from goldenpath.scaffold import RECORD_PATH
from goldenpath.scaffold.catalog import MAX_PARAMETERS, find_template
from goldenpath.services import scaffold
from goldenpath.spec import load_platform
from tests.scaffold.helpers import Workspace, clone, edit_service, edit_team, edit_template


def heads(url: str) -> str:
    return str(git.Git().ls_remote("--heads", url))


def push_record(url: str, work: Path, edit: Callable[[dict[str, Any]], str | None]) -> None:
    """A tenant edits the record on main (``edit`` mutates it, or returns the raw text)."""
    repo = clone(url, work)
    path = work / RECORD_PATH
    record = json.loads(path.read_text())
    text = edit(record)
    path.write_text(text if text is not None else json.dumps(record))
    repo.git.commit("--quiet", "-am", "edit the record")
    repo.git.push("--quiet", "origin", "main")


# --- tenant values are data -----------------------------------------------------------

DISPLAY_NAMES = [
    "{{ 7*7 }}",
    "{% endraw %}{{ 7*7 }}{% raw %}",
    "{{ cookiecutter.__class__.__init__.__globals__ }}",
    "{% for x in range(2) %}{{ x }}{% endfor %}",
    "''' \"\"\" \\ {#",
]


@pytest.mark.parametrize("display", DISPLAY_NAMES)
def test_a_display_name_reaches_the_repository_as_written(
        workspace: Workspace, tmp_path: Path, display: str) -> None:
    edit_team(workspace, lambda spec: spec.update(displayName=display))
    assert load_platform(workspace.settings.platform_dir).team("payments")  # it validates
    made = scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    clone(made.repository, tmp_path / "check")
    readme = (tmp_path / "check" / "README.md").read_text()
    assert f"Owned by **{display}** (`payments`)" in readme
    assert scaffold.update_service(workspace.settings, "payments", "web",
                                   check=True).status == "current"


def test_a_run_leaves_no_answers_in_the_temporary_directory(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    marker = f"leak-{uuid.uuid4().hex[:8]}"
    edit_team(workspace, lambda spec: spec.update(displayName=f"Team {marker}"))
    scaffold.new_service(workspace.settings, "payments", marker, "python-worker",
                         {"queue": marker})
    edit_template(workspace, "python-worker", "README.md", "## Develop", "## Develop locally")
    result = scaffold.update_service(workspace.settings, "payments", marker)
    assert result.status == "updated"
    leftovers = [p for p in system_tmp.rglob("*")
                 if p.is_file() and marker.encode() in p.read_bytes()]
    assert leftovers == []


# --- the record is the tenant's ---------------------------------------------------------


def _answers(record: dict[str, Any]) -> dict[str, Any]:
    parameters: dict[str, Any] = record["inputs"]["service"]["parameters"]
    return parameters


HOSTILE_RECORDS: list[tuple[str, Callable[[dict[str, Any]], str | None], str]] = [
    ("extra key", lambda r: r.update(answers={"team": "other"}),
     f"{RECORD_PATH} is invalid: answers: Extra inputs are not permitted"),
    ("extra input", lambda r: r["inputs"].update(kubernetes_version="{{ 7*7 }}"),
     f"{RECORD_PATH} is invalid: inputs.kubernetes_version: Extra inputs are not permitted"),
    ("template syntax", lambda r: _answers(r).update(description="{{ 7*7 }}"),
     f"{RECORD_PATH}: recorded parameters: template 'python-service' (parameters: "
     "description): parameter 'description': '{{ 7*7 }}' does not match "
     "^[^\"'\\\\\\n{}]{1,200}$"),
    ("undeclared parameter", lambda r: _answers(r).update(service_name="../../x"),
     f"{RECORD_PATH}: recorded parameters: template 'python-service' (parameters: "
     "description): unknown parameter 'service_name'"),
    ("wrong team", lambda r: r["inputs"].update(team="checkout"),
     f"{RECORD_PATH}: records team 'checkout', but this is 'payments' in the spec; the "
     "record does not describe this service"),
    ("wrong service", lambda r: r["inputs"]["service"].update(name="ledger"),
     f"{RECORD_PATH}: records service 'ledger', but this is 'web' in the spec; the record "
     "does not describe this service"),
    ("wrong template", lambda r: r.update(template="python-worker"),
     f"{RECORD_PATH}: records template 'python-worker', but this is 'python-service' in the "
     "spec; the record does not describe this service"),
    ("oversized", lambda r: json.dumps({**r, "pad": "x" * 70_000}),
     f"{RECORD_PATH} is larger than 65536 bytes"),
    ("non-string parameter", lambda r: _answers(r).update(description=42),
     f"{RECORD_PATH} is invalid: inputs.service.parameters.description: Input should be a "
     "valid string"),
    ("environments not a list", lambda r: r["inputs"].update(environments="dev"),
     f"{RECORD_PATH} is invalid: inputs.environments: Input should be a valid list"),
    ("environment path", lambda r: r["inputs"].update(environments=["../../etc"]),
     f"{RECORD_PATH} is invalid: inputs.environments.0: is not a DNS-1123 label (lower-case "
     "letters, digits and '-', starting and ending with a letter or digit, at most 63 "
     "characters)"),
    ("port as a string", lambda r: r["inputs"]["service"].update(port="8080"),
     f"{RECORD_PATH} is invalid: inputs.service.port: Input should be a valid integer"),
    ("commit", lambda r: r.update(commit="HEAD; rm -rf /"),
     f"{RECORD_PATH} is invalid: commit: String should match pattern '^[0-9a-f]{{40}}$'"),
    ("not JSON", lambda r: "{{ cookiecutter }}",
     f"{RECORD_PATH} is not UTF-8 JSON: Expecting property name enclosed in double quotes "
     "at line 1 column 2"),
    ("old format", lambda r: json.dumps({"template": "python-service", "commit": None,
                                         "declaredVersion": "1.0.0", "answers": {}}),
     f"{RECORD_PATH}: recorded by an older goldenpath (full context under 'answers'); it "
     "cannot be trusted as it is, so the service cannot be updated from it"),
]


@pytest.mark.parametrize(("edit", "message"), [case[1:] for case in HOSTILE_RECORDS],
                         ids=[case[0] for case in HOSTILE_RECORDS])
def test_a_hostile_record_is_refused_and_nothing_is_pushed(
        workspace: Workspace, tmp_path: Path, edit: Callable[[dict[str, Any]], str | None],
        message: str) -> None:
    made = scaffold.new_service(workspace.settings, "payments", "web", "python-service",
                                {"description": "Serves the web."})
    push_record(made.repository, tmp_path / "team", edit)
    edit_template(workspace, "python-service", "README.md", "## Develop", "## Develop locally")
    before = heads(made.repository)
    for check in (True, False):
        with pytest.raises(TemplateError) as caught:
            scaffold.update_service(workspace.settings, "payments", "web", check=check)
        assert str(caught.value) == message
    assert heads(made.repository) == before


def test_a_record_that_is_a_link_is_not_followed(workspace: Workspace, tmp_path: Path) -> None:
    made = scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    repo = clone(made.repository, tmp_path / "team")
    record = tmp_path / "team" / RECORD_PATH
    record.unlink()
    record.symlink_to("/etc/passwd")
    repo.git.add("--all")
    repo.git.commit("--quiet", "-m", "link")
    repo.git.push("--quiet", "origin", "main")
    with pytest.raises(TemplateError) as caught:
        scaffold.update_service(workspace.settings, "payments", "web", check=True)
    assert str(caught.value) == (f"{RECORD_PATH} cannot be opened (Too many levels of "
                                 "symbolic links); it must be a regular file")


def test_a_record_directory_that_is_a_link_is_not_followed(workspace: Workspace,
                                                           tmp_path: Path) -> None:
    """O_NOFOLLOW guards only the file: ``.goldenpath`` made a link to a directory outside
    the clone must not make update-service read (or write) a record there."""
    made = scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = clone(made.repository, tmp_path / "team")
    record_dir = tmp_path / "team" / RECORD_PATH.split("/")[0]
    (outside / "template.json").write_bytes((record_dir / "template.json").read_bytes())
    for child in record_dir.iterdir():
        child.unlink()
    record_dir.rmdir()
    record_dir.symlink_to(outside)
    repo.git.add("--all")
    repo.git.commit("--quiet", "-m", "link the record's directory out")
    repo.git.push("--quiet", "origin", "main")
    before = heads(made.repository)
    with pytest.raises(TemplateError) as caught:
        scaffold.update_service(workspace.settings, "payments", "web", check=True)
    assert str(caught.value) == (".goldenpath is a symbolic link; it must be a directory of "
                                 "the repository")
    assert heads(made.repository) == before

# --- update renders what the current spec says --------------------------------------------


def test_spec_changes_make_a_service_behind_and_reach_its_overlays(
        workspace: Workspace, tmp_path: Path) -> None:
    edit_team(workspace, lambda spec: spec.update(environments=["dev", "staging"]))
    made = scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    edit_team(workspace, lambda spec: spec.update(environments=["dev", "staging", "prod"]))
    edit_service(workspace, "web", port=9000, replicas={"prod": 4},
                 resources={"cpu": "1", "memory": "1Gi"})
    check = scaffold.update_service(workspace.settings, "payments", "web", check=True)
    assert (check.status, check.spec_moved, check.recorded == check.latest) == (
        "behind", True, True)
    result = scaffold.update_service(workspace.settings, "payments", "web")
    assert result.status == "updated"
    clone(made.repository, tmp_path / "branch", branch=result.branch or "")
    prod = tmp_path / "branch" / "deploy" / "overlays" / "prod"
    assert "minReplicas: 4\n" in (prod / "autoscaling.yaml").read_text()
    resources = yaml.safe_load((prod / "resources.yaml").read_text())
    (container,) = resources["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == {"requests": {"cpu": "1", "memory": "1Gi"},
                                      "limits": {"cpu": "1", "memory": "1Gi"}}
    service = yaml.safe_load((tmp_path / "branch" / "deploy/base/service.yaml").read_text())
    assert service["spec"]["ports"][0]["port"] == 9000
    assert scaffold.update_service(workspace.settings, "payments", "web",
                                   check=True).status == "behind"  # main is still old


@pytest.mark.parametrize(("parameters", "message"), [
    ({"description": "{{ 7*7 }}"}, "parameter 'description': '{{ 7*7 }}' does not match"),
    ({"description": "ok", "team": "checkout"}, "unknown parameter 'team'"),
])
def test_spec_parameters_are_checked_again_on_update(
        workspace: Workspace, parameters: dict[str, str], message: str) -> None:
    made = scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    edit_service(workspace, "web", parameters=parameters)
    before = heads(made.repository)
    with pytest.raises(TemplateError, match=message.replace("*", r"\*")):
        scaffold.update_service(workspace.settings, "payments", "web")
    assert heads(made.repository) == before


# --- bounds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "message"), [
    ({f"p{i}": "x" for i in range(MAX_PARAMETERS + 1)},
     f"template 'python-worker': {MAX_PARAMETERS + 1} parameters given; at most "
     f"{MAX_PARAMETERS}"),
    ({"queue": "q" * 5000},
     "template 'python-worker' (parameters: description, queue): parameter 'queue': 5000 "
     "characters; at most 1024"),
    ({"queue": "jobs", "description": "line\nbreak"},
     "template 'python-worker' (parameters: description, queue): parameter 'description': "
     "'line\\nbreak' holds a control character (newline, tab, ...)"),
    ({"queue": "jobs", "x" * 200: "y"},
     "template 'python-worker' (parameters: description, queue): unknown parameter "
     f"'{'x' * 77}...'"),
])
def test_parameters_are_bounded(workspace: Workspace, params: dict[str, str],
                                message: str) -> None:
    before = workspace.team_file.read_bytes()
    with pytest.raises(TemplateError) as caught:
        scaffold.new_service(workspace.settings, "payments", "jobs", "python-worker", params)
    assert str(caught.value) == message
    assert workspace.team_file.read_bytes() == before


@pytest.mark.parametrize("name", ["team", "environments", "Queue", "_private", "a-b"])
def test_a_template_cannot_declare_a_parameter_goldenpath_sets(
        workspace: Workspace, name: str) -> None:
    config = workspace.template_path("python-worker") / "cookiecutter.json"
    data = json.loads(config.read_text())
    data["_goldenpath"]["parameters"][name] = {"help": "x"}
    config.write_text(json.dumps(data))
    spec = load_platform(workspace.settings.platform_dir)
    with pytest.raises(TemplateError) as caught:
        find_template(spec, "python-worker", workspace.settings.templates_root)
    assert str(caught.value).startswith(
        f"template 'python-worker': parameter {name!r}: a parameter name is lower-case "
        "letters, digits and '_', and not one of goldenpath's own keys (")


def test_an_oversized_display_name_is_a_spec_error(workspace: Workspace) -> None:
    edit_team(workspace, lambda spec: spec.update(displayName="x" * 121))
    with pytest.raises(SpecError, match="displayName"):
        scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
