"""goldenpath's image (``deploy/Dockerfile``), read statically (no build: no network in
tests): multi-stage, every base pinned, goldenpath pip-installed into a virtualenv in a
build stage and only that virtualenv copied on, git in the final image and no compiler,
a numeric non-root user, and the command, port and UID the Deployment relies on. The
checks are shown to catch each flaw on a Dockerfile that has it."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import pytest

from goldenpath.settings import ENV_PREFIX, Settings
from tests.deploy.conftest import DEPLOY, Objects, one

DOCKERFILE = DEPLOY / "Dockerfile"
PINNED = re.compile(r"[\w./-]+(:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})")
#: pip of a virtualenv installing the project in the build context
VENV_INSTALL = re.compile(r"\S*venv\S*/bin/(pip|python -m pip) install \.$")
BUILD_TOOLS = re.compile(r"^(gcc|g\+\+|cc|clang|make|cmake|build-essential|[\w.+-]+-dev)$")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]


def stages(text: str) -> list[Stage]:
    """The Dockerfile's stages: continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")))
    found: list[Stage] = []
    for line in filter(None, (raw.strip() for raw in logical.splitlines())):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            found.append(Stage(words[0], words[2] if len(words) == 3 else None))
        elif found:
            found[-1].instructions.append((keyword, rest.strip()))
    return found


def _apt_packages(stage: Stage) -> list[str]:
    packages = []
    for run in stage.args("RUN"):
        for command in re.split(r"&&|;", run):
            words = shlex.split(command)
            if words[:2] in (["apt-get", "install"], ["apt", "install"], ["apk", "add"]):
                packages += [w for w in words[2:] if not w.startswith("-")]
    return packages


def problems(text: str) -> list[str]:
    """What is wrong with a Dockerfile for goldenpath's image; [] when nothing is."""
    found = stages(text)
    if len(found) < 2:
        return ["not multi-stage"]
    out = [f"base {s.base} is not pinned by an exact version or digest"
           for s in found if not PINNED.fullmatch(s.base)]
    *builds, final = found
    if not any(VENV_INSTALL.search(run) for b in builds for run in b.args("RUN")):
        out.append("no build stage pip-installs goldenpath into a virtualenv")
    if any("pip install" in run for run in final.args("RUN")):
        out.append("the final stage runs pip")
    if not any(c.startswith("--from=") and c.split()[-1] == "/opt/venv"
               for c in final.args("COPY")):
        out.append("the final stage does not copy the virtualenv from a build stage")
    packages = _apt_packages(final)
    if "git" not in packages:
        out.append("git is not installed in the final stage")
    out += [f"build tool {p} in the final stage" for p in packages if BUILD_TOOLS.match(p)]
    for run in final.args("RUN"):
        if "install" in run and "--no-install-recommends" not in run and "apt" in run:
            out.append("apt-get install without --no-install-recommends")
        if "apt-get update" in run and "rm -rf /var/lib/apt/lists" not in run:
            out.append("apt lists left in the image")
    users = final.args("USER")
    if not users or not re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]):
        out.append(f"USER {users[-1] if users else '(none)'} is not a numeric non-root UID")
    return out


def _final() -> Stage:
    return stages(DOCKERFILE.read_text())[-1]


def test_the_dockerfile_has_no_problem() -> None:
    assert problems(DOCKERFILE.read_text()) == []


def _exec_form(stage: Stage, keyword: str) -> list[str]:
    (value,) = stage.args(keyword)
    words: list[str] = json.loads(value)
    return words


def test_the_image_runs_what_the_deployment_expects(built: dict[str, Objects]) -> None:
    final = _final()
    container: dict[str, Any] = one(built["production"], "Deployment")["spec"]["template"][
        "spec"]["containers"][0]
    assert _exec_form(final, "ENTRYPOINT") == ["goldenpath"]
    assert _exec_form(final, "CMD") == container["args"]
    (expose,) = final.args("EXPOSE")
    assert [int(p) for p in expose.split()] == [p["containerPort"] for p in container["ports"]]
    uid, _, gid = final.args("USER")[-1].partition(":")
    assert (int(uid), int(gid)) == (container["securityContext"]["runAsUser"],
                                    container["securityContext"]["runAsGroup"])
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(final.args("ENV"))))
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert {k for k in env if k.startswith(ENV_PREFIX)} <= fields
    assert env["GOLDENPATH_STATE_DIR"] == _config(built)["GOLDENPATH_STATE_DIR"]


def _config(built: dict[str, Objects]) -> dict[str, str]:
    data: dict[str, str] = one(built["production"], "ConfigMap")["data"]
    return data


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    """deploy/Dockerfile.dockerignore excludes everything but what is listed; each path
    a COPY takes from the context is listed (a missing one fails the build)."""
    kept = {line.removeprefix("!").removesuffix("/**")
            for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
            if line.startswith("!")}
    copied = {source for stage in stages(DOCKERFILE.read_text())
              for copy in stage.args("COPY") if not copy.startswith("--from=")
              for source in copy.split()[:-1]}
    assert copied and copied <= kept, copied - kept
    for path in copied:
        assert (DEPLOY.parent / path).exists(), path


GOOD = DOCKERFILE.read_text()
FLAWS = {
    "single stage": (re.sub(r"(?s)^.*?\nFROM (python:\S+)\n", r"FROM \1\n", GOOD),
                     "not multi-stage"),
    "pip outside a virtualenv": (GOOD.replace("RUN /opt/venv/bin/pip install .",
                                              "RUN pip install ."),
                                 "no build stage pip-installs goldenpath into a virtualenv"),
    "no virtualenv copied": (GOOD.replace("COPY --from=build /opt/venv /opt/venv",
                                          "COPY --from=build /src /src"),
                             "the final stage does not copy the virtualenv from a build stage"),
    "a floating tag": (GOOD.replace("FROM python:3.12.7-slim-bookworm AS build",
                                    "FROM python:3-slim AS build"),
                       "base python:3-slim is not pinned by an exact version or digest"),
    "latest": (GOOD.replace("FROM python:3.12.7-slim-bookworm\n", "FROM python:latest\n"),
               "base python:latest is not pinned by an exact version or digest"),
    "a compiler": (GOOD.replace("git ca-certificates", "git gcc ca-certificates"),
                   "build tool gcc in the final stage"),
    "headers": (GOOD.replace("git ca-certificates", "git libpq-dev ca-certificates"),
                "build tool libpq-dev in the final stage"),
    "build-essential": (GOOD.replace("git ca-certificates", "git build-essential"),
                        "build tool build-essential in the final stage"),
    "no git": (GOOD.replace("git ca-certificates", "ca-certificates"),
               "git is not installed in the final stage"),
    "root": (GOOD.replace("USER 10001:10001", "USER 0:0"),
             "USER 0:0 is not a numeric non-root UID"),
    "a user name": (GOOD.replace("USER 10001:10001", "USER goldenpath"),
                    "USER goldenpath is not a numeric non-root UID"),
    "no user": (GOOD.replace("USER 10001:10001", ""), "USER (none) is not a numeric non-root UID"),
    "pip in the final stage": (GOOD.replace("COPY --from=build /opt/venv /opt/venv",
                                            "COPY . /src\nRUN pip install /src"),
                               "the final stage runs pip"),
    "recommends": (GOOD.replace(" --no-install-recommends", ""),
                   "apt-get install without --no-install-recommends"),
    "apt lists": (GOOD.replace(" \\\n    && rm -rf /var/lib/apt/lists/*", ""),
                  "apt lists left in the image"),
}


@pytest.mark.parametrize("flaw", sorted(FLAWS))
def test_each_check_catches_its_flaw(flaw: str) -> None:
    text, message = FLAWS[flaw]
    assert text != GOOD
    assert message in problems(text)
