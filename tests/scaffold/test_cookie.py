"""The cookiecutter adapter under attack: values that are Jinja or Python, names that climb
out of the output, links, hooks that would run with values inlined, and what a run leaves
in the temporary directory. Real cookiecutter runs on templates built in tmp_path."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath.errors import TemplateError
from goldenpath.scaffold import cookie
from tests.factories import ROOT

PROJECT = "{{cookiecutter.service_name}}"

#: Jinja that would run, or print something else, if a value were rendered; Python that
#: would break out of a string literal if a value were pasted into source.
PAYLOADS = [
    "{{ 7*7 }}",
    "{% raw %}{{ 7*7 }}{% endraw %}",
    "{% endraw %}{{ 7*7 }}{% raw %}",
    "{{ cookiecutter.__class__.__mro__[1].__subclasses__() }}",
    "{{ self.__init__.__globals__.__builtins__.__import__('os').getcwd() }}",
    "{%- for i in range(3) %}x{% endfor %}",
    "{# hidden #}shown",
    "{% include 'cookiecutter.json' %}",
    "${{ secrets.TOKEN }}",
    "''' + __import__('os').getcwd() + '''",
    '""" + __import__("os").getcwd() + """',
    "back\\slash \\''' \\x00 \n new line \r\n {{",
]

READ_CONTEXT = (
    "import json, os, pathlib\n"
    "context = json.loads(pathlib.Path(os.environ['GOLDENPATH_CONTEXT']).read_text())\n"
)


def build_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def template(tmp_path: Path, files: dict[str, str], **defaults: Any) -> Path:
    config = {"service_name": "svc", "notes": "", **defaults}
    return build_tree(tmp_path / "tpl", {"cookiecutter.json": json.dumps(config), **files})


@pytest.mark.parametrize("payload", PAYLOADS)
def test_values_are_printed_never_evaluated(tmp_path: Path, payload: str) -> None:
    tpl = template(tmp_path, {
        f"{PROJECT}/notes.txt": "{{ cookiecutter.notes }}",
        f"{PROJECT}/greeting.txt": "{{ cookiecutter.greeting }}",
        f"{PROJECT}/nested.json": "{{ cookiecutter.nested | jsonify }}",
    }, greeting="hello {{ cookiecutter.notes }}", nested={"k": "v"})
    project = cookie.render(tpl, {"notes": payload, "nested": {payload: [payload]}},
                            tmp_path / "out")
    assert (project / "notes.txt").read_bytes().decode() == payload
    # A template default that reads the value prints it; the value is not rendered again.
    assert (project / "greeting.txt").read_bytes().decode() == "hello " + payload
    assert json.loads((project / "nested.json").read_text()) == {payload: [payload]}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_hook_reads_values_as_data(tmp_path: Path, payload: str) -> None:
    tpl = template(tmp_path, {
        f"{PROJECT}/.keep": "",
        "hooks/post_gen_project.py": READ_CONTEXT + (
            "pathlib.Path('from-hook.json').write_text(json.dumps(context['notes']))\n"),
    })
    project = cookie.render(tpl, {"notes": payload}, tmp_path / "out")
    assert json.loads((project / "from-hook.json").read_text()) == payload


def test_a_hook_that_would_inline_values_is_refused(tmp_path: Path) -> None:
    # The pattern the templates used: a value pasted into a raw triple-quoted string.
    tpl = template(tmp_path, {
        f"{PROJECT}/.keep": "",
        "hooks/post_gen_project.py":
            "import json\nNOTES = json.loads(r'''{{ cookiecutter.notes | jsonify }}''')\n",
    })
    pwned = tmp_path / "PWNED"
    breakout = f"''' if open({str(pwned)!r}, 'w') else '''"
    with pytest.raises(TemplateError) as caught:
        cookie.render(tpl, {"notes": breakout}, tmp_path / "out")
    assert str(caught.value) == (
        "template tpl: hooks/post_gen_project.py contains template syntax; hooks run as they "
        "are and read their inputs from the JSON file named by $GOLDENPATH_CONTEXT")
    assert not pwned.exists()
    assert not (tmp_path / "out" / "svc").exists()


@pytest.mark.parametrize("hook", ["pre_gen_project.py", "pre_prompt.py",
                                  "post_gen_project.sh"])
def test_hooks_goldenpath_would_not_run_as_they_are_are_refused(tmp_path: Path,
                                                                hook: str) -> None:
    tpl = template(tmp_path, {f"{PROJECT}/.keep": "", f"hooks/{hook}": "touch PWNED\n"})
    with pytest.raises(TemplateError) as caught:
        cookie.render(tpl, {}, tmp_path / "out")
    assert str(caught.value) == (f"template tpl: hooks/{hook}: goldenpath runs only "
                                 "hooks/post_gen_project.py")
    assert not list(tmp_path.rglob("PWNED"))


def test_a_failing_hook_is_a_template_error(tmp_path: Path) -> None:
    tpl = template(tmp_path, {f"{PROJECT}/.keep": "",
                              "hooks/post_gen_project.py": "raise SystemExit('no queue')\n"})
    with pytest.raises(TemplateError, match=r"hooks/post_gen_project.py failed \(exit 1\): "
                                            "no queue"):
        cookie.render(tpl, {}, tmp_path / "out")


@pytest.mark.parametrize(("files", "values", "message"), [
    ({f"{PROJECT}/{{{{cookiecutter.notes}}}}.txt": "x"}, {"notes": "../../escaped"},
     "{{cookiecutter.notes}}.txt renders as '../../escaped.txt', outside the project "
     "directory"),
    ({f"{PROJECT}/{{{{cookiecutter.notes}}}}.txt": "x"}, {"notes": "/tmp/../escaped"},
     "{{cookiecutter.notes}}.txt renders as '/tmp/../escaped.txt', outside the project "
     "directory"),
    ({f"{PROJECT}/{{{{cookiecutter.notes}}}}/x.txt": "x"}, {"notes": "../.."},
     "{{cookiecutter.notes}} renders as '../..', outside the project directory"),
    ({f"{PROJECT}/a/{{{{cookiecutter.notes}}}}.txt": "x"}, {"notes": "../../../escaped"},
     "a/{{cookiecutter.notes}}.txt renders as 'a/../../../escaped.txt', outside the project "
     "directory"),
    ({f"{PROJECT}/x.txt": "x"}, {"service_name": "../escaped"},
     "the project directory renders as '../escaped': not a single directory name"),
    ({f"{PROJECT}/x.txt": "x"}, {"service_name": ".."},
     "the project directory renders as '..': not a single directory name"),
    # cookiecutter renders the project's absolute path again for every subdirectory.
    ({f"{PROJECT}/d/x.txt": "x"}, {"service_name": "{{ 7*7 }}"},
     "the project directory renders as '{{ 7*7 }}': not a single directory name"),
])
def test_rendered_paths_stay_inside_the_project(tmp_path: Path, files: dict[str, str],
                                                values: dict[str, str], message: str) -> None:
    tpl = template(tmp_path, files)
    out = tmp_path / "deep" / "er" / "out"
    with pytest.raises(TemplateError) as caught:
        cookie.render(tpl, values, out)
    assert str(caught.value) == f"template tpl: {message}"
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"tpl/cookiecutter.json", *(f"tpl/{name}" for name in files)}


def test_a_template_holding_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    secret = build_tree(tmp_path / "elsewhere", {"secret.txt": "s3cret"}) / "secret.txt"
    tpl = template(tmp_path, {f"{PROJECT}/x.txt": "x"})
    (tpl / PROJECT / "leak.txt").symlink_to(secret)
    with pytest.raises(TemplateError) as caught:
        cookie.render(tpl, {}, tmp_path / "out")
    assert str(caught.value) == (f"template tpl: {PROJECT}/leak.txt is a symbolic link; "
                                 "templates hold only files and directories")
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


def test_a_hook_that_leaves_a_link_in_the_project_is_refused(tmp_path: Path) -> None:
    tpl = template(tmp_path, {f"{PROJECT}/.keep": "", "hooks/post_gen_project.py":
                              "import os\nos.symlink('/etc', 'etc')\n"})
    with pytest.raises(TemplateError) as caught:
        cookie.render(tpl, {}, tmp_path / "out")
    assert str(caught.value) == ("template tpl: the generated etc is not a regular file or "
                                 "directory; generated projects hold nothing else")


def test_private_settings_are_not_values(tmp_path: Path) -> None:
    tpl = template(tmp_path, {f"{PROJECT}/x.txt": "x"})
    with pytest.raises(TemplateError, match=r"values \['_extensions'\] are cookiecutter's"):
        cookie.render(tpl, {"_extensions": ["os.system"]}, tmp_path / "out")


def test_a_run_leaves_nothing_in_the_temporary_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    tpl = template(tmp_path, {
        f"{PROJECT}/notes.txt": "{{ cookiecutter.notes }}",
        "hooks/post_gen_project.py": READ_CONTEXT + (
            "import tempfile\n"
            "tempfile.NamedTemporaryFile(delete=False).write(context['notes'].encode())\n"),
    })
    project = cookie.render(tpl, {"notes": "answer-7f3a9"}, tmp_path / "out")
    assert (project / "notes.txt").read_text() == "answer-7f3a9"
    assert list(system_tmp.iterdir()) == []
    assert os.listdir(tmp_path / "out") == ["svc"]


def test_template_defaults_are_rendered_as_cookiecutter_would(tmp_path: Path) -> None:
    tpl = template(tmp_path, {f"{PROJECT}/out.json": "{{ cookiecutter | jsonify }}"},
                   package="{{ cookiecutter.service_name | replace('-', '_') }}",
                   flavour=["{{ cookiecutter.notes }}-a", "b"], enabled=True,
                   nested={"{{ cookiecutter.notes }}": "{{ cookiecutter.package }}"},
                   __prompts__={"notes": "What?"}, _private="{{ not rendered }}")
    project = cookie.render(tpl, {"service_name": "my-svc", "notes": "{{ n }}"},
                            tmp_path / "out")
    out = json.loads((project / "out.json").read_text())
    assert {key: out[key] for key in ("package", "flavour", "enabled", "nested", "_private")} == {
        "package": "my_svc", "flavour": "{{ n }}-a", "enabled": True,
        "nested": {"{{ n }}": "my_svc"}, "_private": "{{ not rendered }}"}
    assert "__prompts__" not in out


@pytest.mark.parametrize("name", ["python-service", "python-worker"])
def test_the_golden_path_hooks_write_values_as_data(tmp_path: Path, name: str) -> None:
    # Values no spec would pass, to show the hooks quote whatever they are given.
    hostile = "x'''\"\"\"\\\n# {{ 7*7 }}\nkind: Secret"
    env = {"namespace": hostile, "replicas": 2, "cpu": hostile, "memory": "1Gi",
           "cpu_limit": hostile, "memory_limit": "1Gi"}
    project = cookie.render(ROOT / "templates" / name, {
        "service_name": "svc", "image_repository": hostile, "image_tag": hostile,
        "environments": {"dev": env}}, tmp_path / "out")
    overlay = project / "deploy" / "overlays" / "dev"
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == hostile
    assert kustomization["images"] == [{"name": hostile, "newTag": hostile}]
    patch = yaml.safe_load((overlay / "resources.yaml").read_text())
    (container,) = patch["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == {"requests": {"cpu": hostile, "memory": "1Gi"},
                                      "limits": {"cpu": hostile, "memory": "1Gi"}}


def test_a_golden_path_hook_refuses_an_environment_that_is_a_path(tmp_path: Path) -> None:
    env = {"namespace": "n", "replicas": 1, "cpu": "1", "memory": "1Gi", "cpu_limit": "1",
           "memory_limit": "1Gi"}
    message = re.escape("environment '../../../escaped' is not a DNS label")
    with pytest.raises(TemplateError, match=message):
        cookie.render(ROOT / "templates" / "python-service", {
            "service_name": "svc", "environments": {"../../../escaped": env}}, tmp_path / "out")
    assert not list(tmp_path.rglob("escaped"))


def test_a_hook_does_not_see_goldenpaths_secrets(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A hook gets only what it needs of the environment: never the admin token, the
    database URL or git credentials of the process that runs it."""
    for name in ("GOLDENPATH_ADMIN_TOKEN", "GOLDENPATH_DATABASE_URL",
                 "GOLDENPATH_GITOPS_TOKEN", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "s3cr3t-value")
    tpl = template(tmp_path, {
        f"{PROJECT}/.keep": "",
        "hooks/post_gen_project.py": "import json, os, pathlib\n"
            "pathlib.Path('env.json').write_text(json.dumps(dict(os.environ)))\n",
    })
    project = cookie.render(tpl, {}, tmp_path / "out")
    seen = json.loads((project / "env.json").read_text())
    assert "s3cr3t-value" not in seen.values()
    assert "GOLDENPATH_CONTEXT" in seen and "PATH" in seen
