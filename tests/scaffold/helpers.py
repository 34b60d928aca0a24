"""A scaffolding workspace in tmp_path: templates in their own git repository, a platform
directory, and Settings pointing at both, so tests never touch the real tree or state."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import yaml

from goldenpath.settings import Settings
from tests.factories import ROOT, platform_doc, team_doc, write_platform

TEMPLATES = ROOT / "templates"


@dataclass
class Workspace:
    root: Path
    templates: git.Repo
    settings: Settings

    @property
    def team_file(self) -> Path:
        return self.settings.platform_dir / "teams" / "payments.yaml"

    def template_path(self, name: str) -> Path:
        return self.settings.templates_root / "templates" / name

    def commit_templates(self, message: str) -> str:
        self.templates.git.add("--all")
        self.templates.git.commit("--quiet", "-m", message)
        return self.templates.head.commit.hexsha


def make_workspace(root: Path, **settings: object) -> Workspace:
    tpl_root = root / "tpl"
    for name in ("python-service", "python-worker"):
        shutil.copytree(TEMPLATES / name, tpl_root / "templates" / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    repo = git.Repo.init(tpl_root, initial_branch="main")
    repo.git.add("--all")
    repo.git.commit("--quiet", "-m", "templates")
    team = team_doc("payments", services=[
        {"name": "ledger", "template": "python-service", "port": 8080},
    ])
    platform_dir = write_platform(root / "platform", platform_doc(), [team])
    # A comment the round-trip edit must keep.
    text = (platform_dir / "teams" / "payments.yaml").read_text()
    (platform_dir / "teams" / "payments.yaml").write_text("# owned by payments\n" + text)
    values = {"platform_dir": platform_dir, "state_dir": root / "state",
              "templates_root": tpl_root, **settings}
    return Workspace(root, repo, Settings(**values))  # type: ignore[arg-type]


def clone(url: str, dest: Path, branch: str = "main") -> git.Repo:
    return git.Repo.clone_from(url, dest, branch=branch)


def push_local_edit(url: str, work: Path, path: str, edit: str, *, append: bool = True) -> None:
    """What a service team does: change a file on main and push."""
    repo = clone(url, work)
    target = work / path
    target.write_text((target.read_text() if append else "") + edit)
    repo.git.commit("--quiet", "-am", f"local edit of {path}")
    repo.git.push("--quiet", "origin", "main")


def edit_template(workspace: Workspace, template: str, path: str, old: str, new: str) -> str:
    """Change a template file and commit it; return the new template commit."""
    target = workspace.template_path(template) / "{{cookiecutter.service_name}}" / path
    text = target.read_text()
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))
    return workspace.commit_templates(f"template: edit {path}")


def edit_team(workspace: Workspace, edit: Callable[[dict[str, Any]], object]) -> None:
    """What a tenant does to its own spec: ``edit`` changes the team's ``spec`` mapping."""
    doc = yaml.safe_load(workspace.team_file.read_text())
    edit(doc["spec"])
    workspace.team_file.write_text(yaml.safe_dump(doc, sort_keys=False))


def edit_service(workspace: Workspace, name: str, **fields: Any) -> None:
    def edit(spec: dict[str, Any]) -> None:
        (service,) = [s for s in spec["services"] if s["name"] == name]
        service.update(fields)
    edit_team(workspace, edit)
