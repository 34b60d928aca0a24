"""The YAML writer of every object file (goldenpath.gitops.emit): whatever the data, YAML
readers give back exactly the object written (PyYAML here, kubectl's kustomize below),
and the same object always gives the same text."""

from __future__ import annotations

import copy
import math
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldenpath.gitops import emit
from goldenpath.gitops.layout import to_yaml
from goldenpath.render import render
from goldenpath.render.paths import path_for
from goldenpath.services import platform as service
from goldenpath.spec import load_platform
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform
from tests.kustomize import kustomize

#: strings a YAML reader could take for something else, or not give back as they are
TRICKY = [
    "", " ", "  ", "yes", "no", "Yes", "NO", "on", "Off", "y", "n", "Y", "N", "true",
    "False", "null", "Null", "~", "0x1F", "0o17", "0b101", "1e3", "1E3", "1.5", ".5", "5.",
    "012", "0", "-1", "+1", "1_000", "1:20", "1:20:30", ".inf", "-.inf", ".nan", ".NaN",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "<<", "-", "- a", "?", "? a", ":",
    "a:", "a: b", "a :b", "a:b", "http://x.example/y?z=1#f", "#", "# c", "a #b", "a#b",
    "a ", " a", "a  b", "'", "'a'", '"', '"a"', "\\", "\\n", "@a", "`a", "!a", "!!str",
    "&a", "*a", "%a", "|", ">", "|-", "[a]", "{a: 1}", "a,b", "[", "}", "---", "...",
    "--- a", "a\n", "a\nb", "a\n\nb", "a\n\n", "\na", "\n", "\n\n", " a\nb", "a \nb",
    "a\n b", "a\n  b\n", "a\n\tb", "\ta", "a\t", "a\rb", "a\r\nb", "a\x85b", "a\u2028b",
    "a\u2029b", "\ufeffa", "a\x00b", "a\x07", "\x7f", "\x9f", "\ud7ff", "\ue000", "\ufffd",
    "\U0001f600", "é", "Ωmega", "日本語", "a\u00a0b", "a\\u0041", "%YAML 1.1",
    "x" * 5000, ("word " * 400).strip(), "line\n" * 300, "key: value\n- item\n# comment\n",
    "|\n  a", "a\n---\nb", "a\n...\nb", "a\n# b", "{\n  \"a\": [1, 2]\n}\n",
]

_keys = st.one_of(st.sampled_from(TRICKY), st.text(max_size=40), st.text(min_size=120,
                                                                           max_size=140))
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=False), st.sampled_from(TRICKY), st.text(),
    st.text(alphabet=st.sampled_from("ab :#-\n\t'\"{}[]|>.0123456789yesnoYESNO"), max_size=30),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=30,
)
_bodies = st.dictionaries(_keys, _values, max_size=6)


def _read(text: str) -> Any:
    return yaml.load(text, Loader=yaml.SafeLoader)


@pytest.mark.parametrize("value", TRICKY)
def test_every_tricky_string_reads_back_as_written(value: str) -> None:
    body = {"value": value, value[:100]: "key", "list": [value, [value]],
            "nested": {"deeper": {"value": value}}}
    text = emit.dump(body)
    assert _read(text) == body
    assert yaml.load(text, Loader=yaml.CSafeLoader) == body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies)
def test_any_plain_data_reads_back_as_written(body: dict[str, Any]) -> None:
    text = emit.dump(body)
    assert _read(text) == body
    assert text.endswith("\n") and not text.endswith("\n\n")


@settings(max_examples=200, deadline=None)
@given(_bodies)
def test_the_same_object_always_gives_the_same_text(body: dict[str, Any]) -> None:
    reordered = {k: body[k] for k in reversed(body)}
    assert emit.dump(body) == emit.dump(copy.deepcopy(body)) == emit.dump(reordered)


def test_only_strings_no_reader_can_mistake_are_plain() -> None:
    text = emit.dump({"a": "yes", "b": "012", "c": "1e3", "d": "0x1F", "e": "a: b",
                      "f": "a #b", "g": " a", "h": "", "i": "payments-dev", "j": "Payments team",
                      "k": "https://git.example.com/a/b.git", "l": "app.kubernetes.io/name",
                      "m": "250m", "n": "~", "o": "on", "p": "y"})  # key n: a bool to yaml.v2
    assert text == (
        'a: "yes"\nb: "012"\nc: "1e3"\nd: "0x1F"\ne: "a: b"\nf: "a #b"\ng: " a"\nh: ""\n'
        "i: payments-dev\nj: Payments team\nk: https://git.example.com/a/b.git\n"
        'l: app.kubernetes.io/name\nm: "250m"\n"n": "~"\no: "on"\np: "y"\n')


def test_block_style_sorted_keys_and_literal_multiline_strings() -> None:
    body = {"z": [], "b": {"items": [{"p": 1, "m": [True, None, 1.5]}, ["x", {}]]},
            "a": "first\nsecond\n", "c": "no final break\nhere"}
    assert emit.dump(body) == (
        "a: |\n  first\n  second\n"
        "b:\n  items:\n  - m:\n    - true\n    - null\n    - 1.5\n    p: 1\n  - - x\n    - {}\n"
        "c: |-\n  no final break\n  here\n"
        "z: []\n")


@pytest.mark.parametrize("value", ["a\n\tb", "a \nb", " a\nb", "a\n\n", "a\rb", "a\x85b",
                                   "a\u2028b", "\na", "a\x00\nb"])
def test_multiline_strings_a_literal_block_would_change_are_double_quoted(value: str) -> None:
    text = emit.dump({"v": value})
    assert text.startswith('v: "')
    assert _read(text) == {"v": value}


@pytest.mark.parametrize("value", [math.inf, -math.inf, 1e17, 1e-05, 0.1, -0.0, 3.0])
def test_floats_read_back_as_floats(value: float) -> None:
    assert _read(emit.dump({"v": value})) == {"v": value}
    assert type(_read(emit.dump({"v": value}))["v"]) is float
    assert math.isnan(_read(emit.dump({"v": math.nan}))["v"])


def test_what_is_no_plain_data_is_left_to_pyyaml_as_before() -> None:
    for body in ({1: "int key", 2: "b"}, {"k" * 200: "long key"}, {"a": ("a", "tuple")}):
        assert emit.dump(body) == yaml.dump(body, Dumper=yaml.CSafeDumper, sort_keys=True,
                                            default_flow_style=False, allow_unicode=True,
                                            width=1 << 16)
    assert _read(emit.dump({"k" * 200: "long key"})) == {"k" * 200: "long key"}
    with pytest.raises(yaml.representer.RepresenterError):
        emit.dump({"a": object()})


def test_every_object_of_the_example_platform_reads_back_as_rendered() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    for resource in render(spec):
        assert _read(to_yaml(resource.body).decode()) == resource.body, resource.ref


# --- kubectl kustomize (Go's YAML, as Argo CD reads the files) ---------------------------

#: kustomize reads control characters (escaped) but refuses to write them out again, and
#: writes "<<" plain, which the PyYAML reading its output takes for a merge key
_KUBECTL_SAFE = [s for s in TRICKY if s != "<<" and
                 not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in s)]
_go_text = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=40).filter(
    lambda s: "<<" not in s)
_go_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 53), 2 ** 53),
                        st.sampled_from(_KUBECTL_SAFE), _go_text,
                        st.text(alphabet=st.sampled_from("ab :#-\n'\"{}[]|>.01yesnoYN"),
                                max_size=30))
_go_values = st.recursive(
    _go_scalars,
    lambda inner: st.lists(inner, min_size=1, max_size=3)
    | st.dictionaries(_go_text, inner, min_size=1, max_size=4),
    max_leaves=20,
)


def _write_widgets(directory: Path, specs: list[Any]) -> list[dict[str, Any]]:
    directory.mkdir()
    bodies = [{"apiVersion": "example.com/v1", "kind": "Widget",
               "metadata": {"name": f"w{i}", "namespace": "team-dev"}, "spec": {"v": v}}
              for i, v in enumerate(specs)]
    names = []
    for body in bodies:
        name = f"{body['metadata']['name']}.yaml"
        (directory / name).write_bytes(to_yaml(body))
        names.append(name)
    (directory / "kustomization.yaml").write_text(
        "resources:\n" + "".join(f"- {n}\n" for n in names))
    return bodies


def _by_name(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {obj["metadata"]["name"]: obj for obj in objects}


def test_kustomize_reads_every_tricky_string_as_written(tmp_path: Path) -> None:
    specs: list[Any] = [[s, {"k": s}] for s in _KUBECTL_SAFE]
    specs.append({s[:100] or "empty": i for i, s in enumerate(_KUBECTL_SAFE) if s})
    bodies = _write_widgets(tmp_path / "w", specs)
    assert _by_name(kustomize(tmp_path / "w")) == _by_name(bodies)


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(_go_values, min_size=1, max_size=40))
def test_kustomize_reads_any_plain_data_as_written(tmp_path: Path, specs: list[Any]) -> None:
    directory = tmp_path / f"w{len(list(tmp_path.iterdir()))}"
    bodies = _write_widgets(directory, specs)
    assert _by_name(kustomize(directory)) == _by_name(bodies)


# --- attack: tenant text that would be YAML structure if written carelessly ---------------

HOSTILE_NAMES = ["Pay\nkind: Secret\nstringData: {user: x}", "Pay: x #comment",
                 '"\nmetadata: {namespace: kube-system}', "yes", "  padded  ",
                 "a\u2028kind: Secret", "a\tb", "- item", "|\n  block",
                 "Pay\n---\nkind: ClusterRoleBinding"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_tenant_s_free_text_stays_one_string_in_every_file(tmp_path: Path, name: str) -> None:
    """A team's displayName (free text, newlines allowed) lands in a Namespace annotation,
    AppProject descriptions and dashboards: each file still holds exactly the object
    rendered, for PyYAML and for kustomize, and the text is the annotation's value."""
    platform = write_platform(tmp_path / "p", platform_doc(),
                              [team_doc("payments", displayName=name)])
    checked = service.load_and_check(platform)
    out = tmp_path / "out"
    service.write_tree(checked, out, workers=1)
    for resource in checked.bundle:
        assert _read((out / path_for(resource)).read_text()) == resource.body, resource.ref
    [namespace] = [o for o in kustomize(out / "tenants/payments/dev") if o["kind"] == "Namespace"]
    assert namespace["metadata"]["annotations"]["goldenpath.dev/display-name"] == name
    assert namespace["metadata"]["name"] == "payments-dev"
