"""Safe YAML reading for spec files.

PyYAML keeps the last of two equal keys without a word; in a spec that silently drops a
setting, so a duplicate key is an error here. Only the safe loader is used (C-accelerated
where libyaml is present), and files are size-limited before parsing.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

MAX_SPEC_BYTES = 1024 * 1024
#: Longer integers are refused while parsing: Python refuses to convert more than 4,300
#: digits (a ValueError deep in PyYAML), and no spec number needs more than a few.
MAX_INT_CHARS = 32

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlProblem(ValueError):
    """The file is not a single, well-formed YAML mapping."""


class _StrictLoader(_Base):  # type: ignore[misc, valid-type]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                continue  # the base constructor reports "found unhashable key"
            if key in seen:
                raise YamlProblem(
                    f"line {line}: duplicate key {key!r} (first at line {seen[key]}); "
                    "YAML would silently keep only the last value"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node)
        if len(text) > MAX_INT_CHARS:
            raise YamlProblem(f"line {node.start_mark.line + 1}: an integer of {len(text)} "
                              f"characters; spec integers are limited to {MAX_INT_CHARS}")
        return super().construct_yaml_int(node)  # type: ignore[no-any-return]


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping
)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read one YAML document that must be a mapping, refusing oversize files,
    duplicate keys, multiple documents and non-UTF-8 text."""
    return parse_yaml_mapping(read_spec_bytes(path))


def read_spec_bytes(path: Path | str) -> bytes:
    """A spec file's bytes, refusing oversize files before reading them."""
    # os-level calls: loading reads 1,000 of these, and io.open's objects cost more
    # than the reading itself
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size > MAX_SPEC_BYTES:
            raise YamlProblem(f"file is {size} bytes; spec files are limited to "
                              f"{MAX_SPEC_BYTES}")
        chunks = []
        while chunk := os.read(fd, max(size, 1 << 16)):  # the file may grow meanwhile
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_SPEC_BYTES:
                raise YamlProblem(f"file is over {MAX_SPEC_BYTES} bytes; spec files are "
                                  "limited to that")
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_yaml_mapping(data: bytes) -> dict[str, Any]:
    """Parse one YAML document that must be a mapping (see :func:`read_yaml_mapping`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise YamlProblem(f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    try:
        documents = list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlProblem(f"{where}invalid YAML: {err.problem}") from None
    except yaml.YAMLError as err:
        raise YamlProblem(f"invalid YAML: {err}") from None
    documents = [doc for doc in documents if doc is not None]
    if len(documents) != 1:
        raise YamlProblem(f"expected exactly one YAML document, found {len(documents)}")
    if not isinstance(documents[0], dict):
        raise YamlProblem(f"expected a mapping at the top, found {type(documents[0]).__name__}")
    return documents[0]
