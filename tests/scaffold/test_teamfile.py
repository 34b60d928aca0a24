"""A team file is edited while others read it (the API loads the specs while its worker
scaffolds): a reader never sees half a file."""

from __future__ import annotations

import copy
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath.errors import SpecError
from goldenpath.scaffold import teamfile
from tests.factories import ROOT
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


def _fresh(text: str, document: dict[str, Any]) -> str:
    """What an edit gives with nothing parsed before."""
    teamfile._PARSED.clear()
    teamfile._EDITS.clear()
    return teamfile.replaced(text, "teams/x.yaml", document)


def test_an_edit_of_a_text_parsed_before_is_that_of_a_fresh_parse() -> None:
    """Edits reuse a text's parse (a copy of it): comments, anchors, tags and flow style
    come out as from a fresh parse, an edit never leaks into the next one, and a text
    with a directive (whose dump depends on the loader) is parsed every time."""
    example = sorted((ROOT / "platform" / "teams").glob("*.yaml"))
    texts = [p.read_text() for p in example]
    texts += ["# owned by payments\n" + texts[0].replace("spec:", "spec: &s", 1),
              texts[0].replace("metadata:", "metadata: !!map", 1),
              "%YAML 1.2\n---\n" + texts[0]]
    for text in texts:
        base = yaml.safe_load(text.replace("%YAML 1.2\n---\n", ""))
        first, second = copy.deepcopy(base), copy.deepcopy(base)
        first["spec"]["costCenter"] = "CC-first"
        second["spec"]["members"] = ["group:second"]
        expected = [_fresh(text, first), _fresh(text, second)]
        teamfile._PARSED.clear()
        teamfile._EDITS.clear()
        edits = [teamfile.replaced(text, "teams/x.yaml", doc)
                 for doc in (first, second, first, second)]
        assert edits == expected * 2
        assert "CC-first" not in edits[1]
    teamfile.replaced(texts[0], "teams/x.yaml", yaml.safe_load(texts[0]))
    assert list(teamfile._PARSED) == [texts[0]]  # the directive's text was not kept


def test_the_same_edit_again_is_answered_without_parsing_or_dumping(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An API submission check, the worker's edit of the same request and a portal's
    plan of the same proposal make one edit: it is made once per process. Anything that
    differs (a value's type, the order of new keys, the text) is an edit of its own."""
    text = sorted((ROOT / "platform" / "teams").glob("*.yaml"))[0].read_text()
    base = yaml.safe_load(text)
    teamfile._PARSED.clear()
    teamfile._EDITS.clear()
    dumps: list[int] = []
    dump = teamfile.YAML.dump

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        dumps.append(1)
        dump(self, *args, **kwargs)

    monkeypatch.setattr(teamfile.YAML, "dump", counted)
    changed = copy.deepcopy(base)
    changed["spec"]["costCenter"] = "CC-1"
    first = teamfile.replaced(text, "teams/x.yaml", changed)
    made = len(dumps)  # the file as it was, and the entry that changed
    assert teamfile.replaced(text, "teams/x.yaml", copy.deepcopy(changed)) == first
    assert len(dumps) == made
    variants = [dict(changed, spec={**changed["spec"], "costCenter": 1}),
                dict(changed, spec={**changed["spec"], "costCenter": True}),
                dict(changed, spec={"extra": "x", **changed["spec"]}),
                dict(changed, spec={**changed["spec"], "extra": "x"})]
    outs = []
    for variant in variants:
        outs.append(teamfile.replaced(text, "teams/x.yaml", variant))
        assert len(dumps) == made + 1  # its changed entries: an edit of its own
        made = len(dumps)
    assert outs == [_fresh(text, v) for v in variants]
    assert teamfile.replaced(text + "# end\n", "teams/x.yaml", changed) != first


_BOMB = "\n".join(["apiVersion: goldenpath.dev/v1alpha1", "kind: Team",
                   "metadata: {name: alpha}", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]",
                   *(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]"
                     for n in range(1, 9)),
                   "spec: {displayName: Alpha}"]) + "\n"


@pytest.mark.parametrize(("text", "message"), [
    (_BOMB, "values with its aliases (*) expanded"),
    ("spec: {displayName: Alpha}\n" + "# " + "x" * (1 << 20) + "\n",
     "bytes; spec files are limited to"),
])
@pytest.mark.parametrize("edit", ["replaced", "with_service"])
def test_the_editor_parses_no_text_the_spec_loader_refuses(text: str, message: str,
                                                          edit: str) -> None:
    """A hostile team file reaching the round-trip editor (an alias bomb, an oversize
    file) is refused within the loader's bounds, before ruamel.yaml builds anything from
    it, with the loader's message."""
    call = (lambda: teamfile.replaced(text, "platform/teams/alpha.yaml",
                                      {"spec": {"displayName": "Alpha"}})) \
        if edit == "replaced" else \
        (lambda: teamfile.with_service(text, "platform/teams/alpha.yaml", {"name": "api"}))
    with pytest.raises(SpecError) as refused:
        call()
    (issue,) = refused.value.issues
    assert issue.file == "platform/teams/alpha.yaml"
    assert message in issue.message, issue.message
