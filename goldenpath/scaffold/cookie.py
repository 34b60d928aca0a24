"""The cookiecutter adapter: render a template directory with values that stay data.

cookiecutter's front door (``cookiecutter()``) renders every context value as a Jinja
template, ``extra_context`` included, and renders each hook script, answers inlined, into
a file in the system temporary directory that it never deletes. Values here come from
tenants (Team specs, parameters), so this adapter uses cookiecutter's generator
(``generate_files``) and nothing in front of it:

- the values goldenpath supplies go into the context as they are; only the template's
  own defaults (``cookiecutter.json``, written by platform admins) are rendered, and a
  value they read is printed by Jinja, never evaluated again;
- every path the template will write is rendered and checked before anything is written:
  it stays inside the project directory, and the template holds no symbolic link;
- the one hook goldenpath runs, ``hooks/post_gen_project.py``, runs as it is, never
  rendered: it reads the context from the JSON file named by ``$GOLDENPATH_CONTEXT``, in a
  private temporary directory (also the hook's ``TMPDIR``) removed when the run ends;
- after the hook, the project must hold only regular files and directories.

No cookiecutter configuration, replay file or clone cache is read or written. Every
failure, hook failures included, becomes a TemplateError.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from cookiecutter.exceptions import CookiecutterException
from cookiecutter.find import find_template
from cookiecutter.generate import generate_files, is_copy_only_path
from cookiecutter.prompt import render_variable
from cookiecutter.utils import create_env_with_context
from jinja2 import Environment
from jinja2 import TemplateError as JinjaError

from goldenpath.errors import DiskFull, TemplateError
from goldenpath.statefile import FULL, ROOM

HOOK = "post_gen_project.py"
CONTEXT_VARIABLE = "GOLDENPATH_CONTEXT"
HOOK_TIMEOUT_SECONDS = 300
#: What a hook's failure message may carry of its standard error.
_STDERR_TAIL = 2000
_JINJA_MARKERS = ("{{", "{%", "{#")
#: cookiecutter's hook names; only HOOK is run, the others are refused.
_HOOK_NAMES = ("pre_prompt", "pre_gen_project", "post_gen_project")


def render(template: Path, values: Mapping[str, Any], output_dir: Path) -> Path:
    """Render ``template`` into a new directory under ``output_dir``; return that directory.

    ``values`` are data: each one replaces the template's default of the same name and is
    never rendered. Callers pass only templates from the platform's list.
    """
    _check_template(template)
    context = {"cookiecutter": _resolve(template, values, output_dir)}
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        project = _check_paths(template, context, output_dir)
        generate_files(repo_dir=str(template), context=context, output_dir=str(output_dir),
                       accept_hooks=False)
    except OSError as err:
        if err.errno in FULL:  # no fault of the template: rendering it again may pass
            raise DiskFull(f"cannot render template {template.name}: {err.strerror}; "
                           f"{ROOM}") from err
        raise TemplateError(f"cannot render template {template.name}: {err}") from err
    except (CookiecutterException, JinjaError, ValueError) as err:
        raise TemplateError(f"cannot render template {template.name}: {err}") from err
    _run_hook(template, project, context["cookiecutter"])
    _check_output(template, project)
    return project


# --- the context ----------------------------------------------------------------------


def _resolve(template: Path, values: Mapping[str, Any], output_dir: Path) -> dict[str, Any]:
    """The template's context: ``values`` as given, the template's other defaults rendered
    (plain values first, then mappings, as cookiecutter orders them)."""
    private = sorted(key for key in values if key.startswith("_"))
    if private:
        raise TemplateError(f"template {template.name}: values {private} are cookiecutter's "
                            "private settings; a context never sets them")
    defaults = _defaults(template)
    defaults.pop("__prompts__", None)  # questions; goldenpath asks none
    env = create_env_with_context({"cookiecutter": defaults})
    resolved: dict[str, Any] = {}
    try:
        for later in (False, True):
            for key, raw in defaults.items():
                if isinstance(raw, dict) is later:
                    resolved[key] = _value(env, key, raw, values, resolved)
    except JinjaError as err:
        raise TemplateError(f"template {template.name}: cookiecutter.json: {err}") from err
    resolved.update(_template=str(template), _output_dir=str(output_dir.resolve()),
                    _repo_dir=str(template), _checkout=None)
    return {key: resolved[key] for key in [*defaults, "_template", "_output_dir",
                                           "_repo_dir", "_checkout"]}


def _value(env: Environment, key: str, raw: Any, values: Mapping[str, Any],
           resolved: dict[str, Any]) -> Any:
    if key in values:
        return values[key]
    if key.startswith("_") and not key.startswith("__"):
        return raw
    if isinstance(raw, list) and raw:
        raw = raw[0]  # a choice: without prompts, cookiecutter takes the first
    return render_variable(env, raw, resolved)


def _defaults(template: Path) -> dict[str, Any]:
    config = template / "cookiecutter.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TemplateError(f"template {template.name}: cannot read {config.name}: {err}") from err
    if not isinstance(data, dict):
        raise TemplateError(f"template {template.name}: {config.name} must be a JSON object")
    return data


# --- paths ----------------------------------------------------------------------------


def _check_template(template: Path) -> None:
    """No symbolic link anywhere (Jinja and cookiecutter would follow it out of the
    template), and no hook goldenpath would not run as it is."""
    for path in _walk(template):
        if path.is_symlink():
            raise TemplateError(f"template {template.name}: {path.relative_to(template)} is a "
                                "symbolic link; templates hold only files and directories")
    hooks = template / "hooks"
    for path in sorted(hooks.iterdir()) if hooks.is_dir() else []:
        stem = path.name.split(".", 1)[0]
        if stem in _HOOK_NAMES and not path.name.endswith("~") and path.name != HOOK:
            raise TemplateError(f"template {template.name}: hooks/{path.name}: goldenpath runs "
                                f"only hooks/{HOOK}")
    hook = hooks / HOOK
    if hook.is_file() and any(m in hook.read_text(encoding="utf-8") for m in _JINJA_MARKERS):
        raise TemplateError(f"template {template.name}: hooks/{HOOK} contains template syntax; "
                            "hooks run as they are and read their inputs from the JSON file "
                            f"named by ${CONTEXT_VARIABLE}")


def _walk(root: Path) -> Iterator[Path]:
    for top, dirs, files in os.walk(root):
        for name in sorted(dirs) + sorted(files):
            yield Path(top, name)


def _check_paths(template: Path, context: dict[str, Any], output_dir: Path) -> Path:
    """Render every name the template will write, as ``generate_files`` renders it, and
    refuse any that leaves the project directory; return the project directory."""
    env = create_env_with_context(context)
    source = find_template(str(template), env)
    name = _render_name(env, source.name, context)
    if "/" in name or name in ("", ".", "..") or any(m in name for m in _JINJA_MARKERS):
        raise TemplateError(f"template {template.name}: the project directory renders as "
                            f"{name!r}: not a single directory name")
    project = output_dir.resolve() / name
    for top, dirs, files in os.walk(source):
        base = Path(top).relative_to(source)
        names = sorted(dirs) + sorted(files)
        # A copy-only directory is copied whole: its own name is rendered, its contents' not.
        dirs[:] = [d for d in dirs if not is_copy_only_path((base / d).as_posix(), context)]
        for entry in names:
            _check_inside(template, env, context, project, (base / entry).as_posix())
    return project


def _check_inside(template: Path, env: Environment, context: dict[str, Any], project: Path,
                  relative: str) -> None:
    rendered = _render_name(env, relative, context)
    if (rendered.startswith("/") or ".." in PurePosixPath(rendered).parts or "\0" in rendered
            or not (project / rendered).resolve().is_relative_to(project)):
        raise TemplateError(f"template {template.name}: {relative} renders as {rendered!r}, "
                            "outside the project directory")


def _render_name(env: Environment, name: str, context: dict[str, Any]) -> str:
    rendered: str = env.from_string(name).render(**context)
    return rendered


def _check_output(template: Path, project: Path) -> None:
    for path in _walk(project):
        if path.is_symlink() or not (path.is_dir() or path.is_file()):
            raise TemplateError(f"template {template.name}: the generated "
                                f"{path.relative_to(project)} is not a regular file or "
                                "directory; generated projects hold nothing else")


# --- the hook -------------------------------------------------------------------------


#: The variables a hook inherits from goldenpath's environment.
_HOOK_ENVIRONMENT = frozenset({"PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "USER", "TZ"})


def _run_hook(template: Path, project: Path, context: dict[str, Any]) -> None:
    """Run ``hooks/post_gen_project.py`` in ``project``, unrendered, with the context as a
    JSON file in a private directory that is removed afterwards, whatever happens."""
    hook = template / "hooks" / HOOK
    if not hook.is_file():
        return
    private = Path(tempfile.mkdtemp(prefix="goldenpath-hook-"))
    try:
        data = private / "context.json"
        data.write_text(json.dumps(context), encoding="utf-8")
        # -I: no PYTHON* variables, no user site, no script or working directory on sys.path.
        # Only what a hook needs of the environment: never goldenpath's own secrets (the
        # admin token, the database URL, git credentials) or settings.
        env = {**{k: v for k, v in os.environ.items() if k in _HOOK_ENVIRONMENT},
               CONTEXT_VARIABLE: str(data), "TMPDIR": str(private)}
        result = subprocess.run([sys.executable, "-I", str(hook)], cwd=project, env=env,
                                capture_output=True, text=True, check=False,
                                timeout=HOOK_TIMEOUT_SECONDS)
    except (OSError, subprocess.SubprocessError) as err:
        raise TemplateError(f"template {template.name}: hooks/{HOOK} did not run: {err}") from err
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if result.returncode != 0:
        raise TemplateError(f"template {template.name}: hooks/{HOOK} failed (exit "
                            f"{result.returncode}): {result.stderr[-_STDERR_TAIL:].strip()}")
