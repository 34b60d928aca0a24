"""An edit of a team file written by splicing (the changed entries emitted alone, the
rest taken from the dump of the file as it was) is byte for byte the full round trip's
(parse, update, dump the whole file): over the example platform's team files, generated
teams in the benchmark's style and in the house style, and files with comments, blank
lines, flow lists and quoted scalars in odd places, under many edits. Typical edits are
spliced; texts with anchors, aliases, tags, directives, block or long scalars are not."""

from __future__ import annotations

import copy
import functools
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from goldenpath.scaffold import splice, teamfile
from tests.factories import ROOT, generated_platform

FILE = "teams/x.yaml"

#: comments and blank lines where a hand-edited file has them, and some where it would not
ODD = """\
# Team file, owned by payments.
# A second header line.

apiVersion: goldenpath.dev/v1alpha1   # the API
kind: Team
metadata:
  name: odd   # an end-of-line comment on a scalar
  # a comment between keys at depth 1
  labels: {tier: "1", "quoted key": 'single'}
spec:   # an end-of-line comment on a map's key
  # before the first key of spec
  displayName: 'Odd Team'
  costCenter: "CC-9"

  owners:     # an end-of-line comment on a list's key
    - "user:a@example.com"   # on an item
    # between items
    - group:b
  members: [ "group:x" , 'group:y' ]  # a flow list with spaces
  viewers: []
  environments: [dev, staging, prod]
  quota: {cpu: "8", memory: 16Gi}   # after a flow map
  alerting:
    slack:
      channel: "#odd"
      secretRef: {name: s, key: url}


    # two blank lines before this comment
  services:
    - name: a
      template: python-service
      replicas: {dev: 1, prod: 2}
      slo: {availability: "99.9"}
      # at the end of a service
    - name: b   # after a name
      template: python-worker
      parameters:
        queue: jobs
  network:
    egressCIDRs: ["10.0.0.0/8"]
    allowFromTeams:
    - payments
    -   checkout
# the end of the file
"""

#: comments at the very start of nested maps and lists, and nothing else
NESTED = """\
apiVersion: goldenpath.dev/v1alpha1
kind: Team
metadata:
  # first in metadata
  name: nested
spec:
  # first in spec
  owners:
  # first in owners
  - group:a
  environmentOverrides:
    prod:
      # first in prod
      quota: {cpu: "32"}
  alerting: {slack: {channel: "#n", secretRef: {name: s, key: url}}}
"""


#: two services of one name (the validator refuses it; the editor must still be exact)
TWINS = """\
apiVersion: goldenpath.dev/v1alpha1
kind: Team
metadata:
  name: twins
spec:
  owners: [group:a]
  services:
    - name: a
      template: python-service
    - name: a
      template: python-service
  quota: {cpu: "1"}
"""


@functools.cache
def corpus() -> tuple[str, ...]:
    texts = [path.read_text() for path in sorted((ROOT / "platform" / "teams").glob("*.yaml"))]
    with tempfile.TemporaryDirectory() as tmp:
        root = generated_platform(Path(tmp), 3, services=3)
        generated = [path.read_text() for path in sorted((root / "teams").glob("*.yaml"))]
    texts += generated  # yaml.safe_dump's style: the 1,000-team benchmark's files
    texts.append(teamfile.new_text(yaml.safe_load(generated[0])))  # the house style
    return (*texts, ODD, TWINS, NESTED)


def generated() -> str:
    """A generated team's file, in yaml.safe_dump's style (the benchmark's)."""
    return corpus()[4]


def full(text: str, document: dict[str, Any]) -> str:
    """The reference: the whole file parsed, updated and dumped, nothing kept."""
    return teamfile._round_trip(text, FILE, document)


def edited(text: str, document: dict[str, Any]) -> str:
    teamfile._EDITS.clear()  # the memo would answer a repeated edit without splicing
    return teamfile.replaced(text, FILE, document)


# -- edits --------------------------------------------------------------------------

SCALARS = st.one_of(
    st.sampled_from(["CC-2", "yes", "no", "1", "01", "1.5", "a: b", "#x", "x #y", "",
                     " lead", "true", "null", "~", "x" * 60, "ünïcödé", "[x]", "{a: 1}",
                     "@x", "multi word", "'q'", '"d"', "group:support", "-", "? x"]),
    st.integers(-5, 5000), st.booleans(), st.none(), st.just(1.5),
    st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["a", "b", "name", "cpu", "x y"]), inner, max_size=3)),
    max_leaves=6)

Op = Callable[[dict[str, Any], st.DrawFn], None]


def _spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc.setdefault("spec", {})
    if not isinstance(spec, dict):
        spec = doc["spec"] = {}
    return spec


def _list(spec: dict[str, Any], key: str) -> list[Any]:
    value = spec.get(key)
    if not isinstance(value, list):
        value = spec[key] = []
    return value


def op_scalar(doc: dict[str, Any], draw: st.DrawFn) -> None:
    where, key = draw(st.sampled_from([("spec", "costCenter"), ("spec", "displayName"),
                                       ("metadata", "name"), (None, "kind")]))
    target = doc if where is None else doc.setdefault(where, {})
    if not isinstance(target, dict):
        return
    if draw(st.booleans()) or key not in target:
        target[key] = draw(SCALARS)
    else:
        del target[key]


def op_viewers(doc: dict[str, Any], draw: st.DrawFn) -> None:
    spec = _spec(doc)
    key = draw(st.sampled_from(["viewers", "members", "owners", "environments"]))
    how = draw(st.sampled_from(["add", "remove", "empty", "delete", "replace"]))
    if how == "delete":
        spec.pop(key, None)
    elif how == "empty":
        spec[key] = []
    elif how == "replace":
        spec[key] = draw(st.lists(SCALARS, max_size=3))
    else:
        items = _list(spec, key)
        if how == "add":
            items.insert(draw(st.integers(0, len(items))), f"group:v{draw(st.integers(0, 9))}")
        elif items:
            del items[draw(st.integers(0, len(items) - 1))]


def op_quota(doc: dict[str, Any], draw: st.DrawFn) -> None:
    spec = _spec(doc)
    how = draw(st.sampled_from(["cpu", "add", "delete", "empty", "new"]))
    quota = spec.get("quota")
    if how == "delete":
        spec.pop("quota", None)
    elif how == "empty":
        spec["quota"] = {}
    elif how == "new" or not isinstance(quota, dict):
        spec["quota"] = {"cpu": f"{draw(st.integers(1, 9000))}m"}
    elif how == "cpu":
        quota["cpu"] = draw(st.sampled_from(["4", "16", 4, "4000m"]))
    else:
        quota[draw(st.sampled_from(["pods", "memory", "services"]))] = draw(SCALARS)


def op_services(doc: dict[str, Any], draw: st.DrawFn) -> None:
    services = _list(_spec(doc), "services")
    how = draw(st.sampled_from(["add", "remove", "replicas", "slo", "reorder", "duplicate",
                                "rename", "template", "parameters"]))
    if how == "add" or not services:
        services.insert(draw(st.integers(0, len(services))), {
            "name": f"new-{draw(st.integers(0, 9))}", "template": "python-worker",
            **draw(st.sampled_from([{}, {"replicas": {"dev": 1, "prod": 2}},
                                    {"parameters": {"queue": "q"}, "port": 8080}]))})
        return
    at = draw(st.integers(0, len(services) - 1))
    service = services[at]
    if not isinstance(service, dict):
        return
    if how == "remove":
        del services[at]
    elif how == "reorder":
        services.reverse()
    elif how == "duplicate":
        services.append(copy.deepcopy(service))
    elif how == "rename":
        service["name"] = f"renamed-{at}"
    elif how == "template":
        service["template"] = draw(st.sampled_from(["python-service", "python-worker"]))
    elif how == "parameters":
        service["parameters"] = draw(VALUES)
    elif how == "replicas":
        replicas = service.setdefault("replicas", {})
        if isinstance(replicas, dict):
            replicas[draw(st.sampled_from(["dev", "staging", "prod"]))] = draw(
                st.sampled_from([1, 2, 5, "1", True, 2.0]))
    else:
        service["slo"] = draw(st.sampled_from([
            {"availability": "99.95"}, {"latencyP99Ms": 120}, {},
            {"availability": "99.9", "latencyP99Ms": 250}]))


def op_alerting(doc: dict[str, Any], draw: st.DrawFn) -> None:
    spec = _spec(doc)
    how = draw(st.sampled_from(["channel", "no-slack", "pagerduty", "empty", "delete"]))
    alerting = spec.get("alerting")
    if how == "delete":
        spec.pop("alerting", None)
    elif how == "empty" or not isinstance(alerting, dict):
        spec["alerting"] = {}
    elif how == "channel" and isinstance(alerting.get("slack"), dict):
        alerting["slack"]["channel"] = draw(st.sampled_from(["#new", "#x-alerts", "plain"]))
    elif how == "no-slack":
        alerting.pop("slack", None)
    else:
        alerting["pagerduty"] = {"secretRef": {"name": "pd", "key": "routing-key"},
                                 "environments": ["prod"]}


def op_extra(doc: dict[str, Any], draw: st.DrawFn) -> None:
    target = draw(st.sampled_from([doc, _spec(doc), doc.setdefault("metadata", {})]))
    if isinstance(target, dict):
        target[draw(st.sampled_from(["extra", "zzz", "annotations", "network"]))] = draw(VALUES)


def op_reorder(doc: dict[str, Any], draw: st.DrawFn) -> None:
    spec = _spec(doc)
    doc["spec"] = dict(reversed(list(spec.items())))
    if draw(st.booleans()):
        items = list(doc.items())
        doc.clear()
        doc.update(reversed(items))


def op_types(doc: dict[str, Any], draw: st.DrawFn) -> None:
    spec = _spec(doc)
    key = draw(st.sampled_from(["environments", "network", "quota", "services", "alerting",
                                "owners", "metadata"]))
    if key == "metadata":
        doc["metadata"] = draw(VALUES)
    else:
        spec[key] = draw(VALUES)


OPS: list[Op] = [op_scalar, op_viewers, op_quota, op_services, op_alerting, op_extra,
                 op_reorder, op_types]


@st.composite
def edits(draw: st.DrawFn, text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    for op in draw(st.lists(st.sampled_from(OPS), min_size=0, max_size=4)):
        op(doc, draw)
    return doc


@st.composite
def commented(draw: st.DrawFn) -> str:
    """A corpus text with comments and blank lines put between its lines and at their
    ends (the data stays what it was)."""
    text = draw(st.sampled_from(corpus()))
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["line", "blank", "end"]))
        if kind == "end":
            if "#" not in lines[at]:
                lines[at] = lines[at].rstrip("\n") + draw(st.sampled_from(["  # e", " #e"])) + "\n"
        else:
            own = len(lines[at]) - len(lines[at].lstrip(" "))
            indent = draw(st.sampled_from([own, 0, own + 2]))
            lines.insert(at, "\n" if kind == "blank" else " " * indent + "# note\n")
    out = "".join(lines)
    try:
        assume(yaml.safe_load(out) == yaml.safe_load(text))
    except yaml.YAMLError:
        assume(False)
    return out


# -- the proof ---------------------------------------------------------------------

@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_an_edit_is_the_full_round_trip_byte_for_byte(data: st.DataObject) -> None:
    text = data.draw(commented())
    first, second = data.draw(edits(text)), data.draw(edits(text))
    teamfile._PARSED.clear()
    assert edited(text, first) == full(text, first)  # parsed now
    assert edited(text, second) == full(text, second)  # from the parse kept
    assert edited(text, first) == full(text, first)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path] + [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [path] + [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


#: a value of every type the editor tells apart (True is not 1, 1 is not 1.0 or "1")
SUBSTITUTES: list[Any] = [True, 1, 1.0, "1", None, {"a": 1}, ["a"]]


@pytest.mark.parametrize("text", [corpus()[i] for i in (2, 4, 8, 9, 10)],
                         ids=["payments", "generated", "odd", "twins", "nested"])
def test_every_value_made_every_type_or_removed_is_the_full_round_trip(text: str) -> None:
    """Each value of the file (maps, lists and scalars, at every depth) replaced by a
    value of each type, and removed."""
    teamfile._PARSED.clear()
    base = yaml.safe_load(text)
    for path in _leaves(base)[1:]:
        for substitute in [*SUBSTITUTES, _REMOVED]:
            document = copy.deepcopy(base)
            parent = functools.reduce(lambda node, key: node[key], path[:-1], document)
            if substitute is _REMOVED:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(substitute)
            assert edited(text, document) == full(text, document), (path, substitute)


_REMOVED = object()


TYPICAL: dict[str, Callable[[dict[str, Any]], None]] = {
    "quota": lambda d: d["spec"].update(quota={"cpu": "12", "memory": "24Gi"}),
    "viewer added": lambda d: d["spec"].update(viewers=[*d["spec"].get("viewers", []),
                                                        "group:auditors"]),
    "viewer removed": lambda d: d["spec"].update(viewers=[]),
    "cost centre": lambda d: d["spec"].update(costCenter="CC-7777"),
    "service added": lambda d: d["spec"]["services"].append(
        {"name": "added", "template": "python-worker"}),
    "service removed": lambda d: d["spec"]["services"].pop(0),
    "slo": lambda d: d["spec"]["services"][-1].update(slo={"availability": "99.5"}),
    "alerting": lambda d: d["spec"].update(alerting={"slack": {
        "channel": "#elsewhere", "secretRef": {"name": "slack-webhook", "key": "url"}}}),
}


@pytest.mark.parametrize("change", TYPICAL)
@pytest.mark.parametrize("text", corpus()[:-2], ids=lambda t: yaml.safe_load(t)["metadata"]["name"])
def test_typical_edits_are_spliced_never_rewritten_whole(text: str, change: str) -> None:
    document = yaml.safe_load(text)
    TYPICAL[change](document)
    teamfile._PARSED.clear()
    teamfile.replaced(text, FILE, yaml.safe_load(text))  # the text parsed before
    expected = full(text, document)
    with mock.patch.object(teamfile, "_rewritten", wraps=teamfile._rewritten) as rewritten, \
            mock.patch.object(teamfile, "_round_trip", wraps=teamfile._round_trip) as whole:
        assert edited(text, document) == expected
    assert (rewritten.call_count, whole.call_count) == (0, 0)


def test_an_edit_of_a_text_parsed_before_dumps_only_what_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan edits its team's file again and again: after the first, an edit dumps
    the changed entries, not the file."""
    text = generated()
    base = yaml.safe_load(text)
    teamfile._PARSED.clear()
    teamfile._EDITS.clear()
    teamfile.replaced(text, FILE, base)
    dumped: list[str] = []
    dump = teamfile.YAML.dump

    def counted(self: Any, data: Any, stream: Any, **kwargs: Any) -> None:
        dump(self, data, stream, **kwargs)
        dumped.append(stream.getvalue())

    monkeypatch.setattr(teamfile.YAML, "dump", counted)
    for cpu in range(1, 6):
        document = copy.deepcopy(base)
        document["spec"]["quota"] = {"cpu": str(cpu)}
        assert teamfile.replaced(text, FILE, document) == full(text, document)
    spliced = dumped[::2]  # each reference dump follows the edit's own
    assert len(spliced) == 5
    assert all(len(out) < len(text) / 10 for out in spliced), [len(o) for o in spliced]


#: what is added to a generated team's spec (a directive: put before it), and the data
#: it stands for
HOSTILE: dict[str, tuple[str, dict[str, Any]]] = {
    "directive": ("%YAML 1.2\n---\n", {}),
    "anchor and alias": ("  extra: &a {x: 1}\n  more: *a\n",
                         {"extra": {"x": 1}, "more": {"x": 1}}),
    "merge key": ("  extra: &a {x: 1}\n  more:\n    <<: *a\n    y: 2\n",
                  {"extra": {"x": 1}, "more": {"x": 1, "y": 2}}),
    "anchored scalar": ("  extra: &s hello\n  more: *s\n", {"extra": "hello", "more": "hello"}),
    "tag on a map": ("  extra: !thing {x: 1}\n", {"extra": {"x": 1}}),
    "tag on a scalar": ("  extra: !thing x\n", {"extra": "x"}),
    "literal block": ("  extra: |\n    two\n    lines\n", {"extra": "two\nlines\n"}),
    "folded block": ("  extra: >\n    two\n    lines\n", {"extra": "two lines\n"}),
    "line break": ('  extra: "two\\nlines"\n', {"extra": "two\nlines"}),
    "huge scalar": ("  extra: " + "x" * (splice.LONGEST_SCALAR + 1) + "\n",
                    {"extra": "x" * (splice.LONGEST_SCALAR + 1)}),
    "integer key": ("  1: one\n", {1: "one"}),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_texts_take_the_full_round_trip(kind: str) -> None:
    """What splicing was not shown to hold for is edited by the full round trip: from a
    parse of its own each time where the dump could not be marked (a copy of a parse
    loses merge keys), else from a copy of the parse kept (a key that is no string)."""
    added, data = HOSTILE[kind]
    text = added + generated() if kind == "directive" else generated() + added
    document = yaml.safe_load(generated())
    document["spec"].update(data, costCenter="CC-7777", quota={"cpu": "3"})
    teamfile._PARSED.clear()
    with mock.patch.object(teamfile, "_rewritten", wraps=teamfile._rewritten) as rewritten, \
            mock.patch.object(teamfile, "_round_trip", wraps=teamfile._round_trip) as whole:
        assert edited(text, document) == full(text, document)
        assert edited(text, document) == full(text, document)  # parsed before
    # the two edits and the two references, each the whole file rewritten
    assert rewritten.call_count + whole.call_count == 2 + 2


REFUSED = {
    "anchor and alias": "an anchor",
    "merge key": "an anchor",
    "anchored scalar": "an anchor",
    "tag on a map": "an explicit tag",
    "tag on a scalar": "an explicit tag",
    "literal block": f"a scalar over lines or of over {splice.LONGEST_SCALAR} characters",
    "folded block": f"a scalar over lines or of over {splice.LONGEST_SCALAR} characters",
    "line break": f"a scalar over lines or of over {splice.LONGEST_SCALAR} characters",
    "huge scalar": f"a scalar over lines or of over {splice.LONGEST_SCALAR} characters",
}


def plain_dump(text: str) -> str:
    """``text`` loaded and dumped by ruamel.yaml alone, as the editor configures it."""
    yaml_ = teamfile._yaml()
    out = io.StringIO()
    yaml_.dump(yaml_.load(text), out)
    return out.getvalue()


def marked(text: str) -> tuple[str, splice._Marks]:
    yaml_ = teamfile._yaml()
    return splice._marked(yaml_, yaml_.load(text))


@pytest.mark.parametrize("text", corpus())
def test_the_marking_dump_writes_what_ruamel_writes_and_marks_line_starts(text: str) -> None:
    dumped, marks = marked(text)
    assert dumped == plain_dump(text)
    assert marks.refused == "" and marks.root is not None
    blocks = [marks.root]
    while blocks:
        block = blocks.pop()
        blocks += block.children.values()
        for key, start in zip(block.keys, block.starts, strict=True):
            assert start == 0 or dumped[start - 1] == "\n"
            assert dumped[start:].lstrip(" ").startswith(("#", "\n", key, f'"{key}"', f"'{key}'"))


@pytest.mark.parametrize("kind", REFUSED)
def test_a_dump_with_what_marks_cannot_stand_for_is_refused(kind: str) -> None:
    """Each of these, added to a file whose dump is marked, has the dump refused, for
    its own reason, and written as ever."""
    text = generated() + HOSTILE[kind][0]
    dumped, marks = marked(text)
    assert marks.refused == REFUSED[kind]
    assert dumped == plain_dump(text)
    yaml_ = teamfile._yaml()
    assert splice.dump(yaml_, yaml_.load(text)) is None


def test_a_dump_with_a_key_that_is_no_scalar_is_refused() -> None:
    _, marks = marked(generated() + "  ? [a, b]\n  : c\n")
    assert marks.refused == "a key that is not a scalar"


def test_a_text_whose_dump_cannot_be_marked_keeps_no_splice_base() -> None:
    text = generated() + HOSTILE["anchor and alias"][0]
    teamfile._PARSED.clear()
    parsed = teamfile._parsed(text, FILE)
    assert parsed is not None and parsed.base is None
    plain = teamfile._parsed(generated(), FILE)
    assert plain is not None and plain.base is not None


def test_a_mark_holds_only_for_a_key_alone_on_its_line_at_its_indentation() -> None:
    text = "a: 1\nb:\n  c: 2\n"
    assert splice._at_line_start(text, 0, 0, 0)
    assert splice._at_line_start(text, 5, 5, 0)
    assert splice._at_line_start(text, 8, 10, 2)
    assert not splice._at_line_start(text, 3, 3, 0)  # mid-line
    assert not splice._at_line_start(text, 8, 10, 1)  # another indentation
    assert not splice._at_line_start(text, 10, 10, 0)  # after spaces
    assert not splice._at_line_start("a: 1 b: 2\n", 5, 5, 0)
