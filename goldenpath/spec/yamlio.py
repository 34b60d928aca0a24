"""Safe YAML reading for spec files.

Team files are written by tenants, so every file is hostile input until it has been read
into plain data of bounded size. What this module guarantees, for any bytes in any file:

- Only regular files are read. A FIFO, socket, device or directory named ``*.yaml`` is
  refused from its ``lstat`` without being opened (a FIFO would block the loader until
  someone writes to it), and a symbolic link is followed only when it stays inside the
  platform directory (:func:`spec_file`); nothing outside it is ever read, so no error
  can quote it.
- Files are size-limited before parsing (:data:`MAX_SPEC_BYTES`).
- Only the safe loader is used (C-accelerated where libyaml is present), so no tag can
  build an object; a document is bounded in values and nesting counted with its
  aliases expanded (a kilobyte of nested aliases stands for billions of values in
  anything that walks the result: :data:`MAX_VALUES`, :data:`MAX_NESTING`), a value
  may not contain itself, numbers are bounded in length, and a value the constructor
  cannot build (``2024-13-45``) is an error on its line, never a traceback.
- PyYAML keeps the last of two equal keys without a word; in a spec that silently drops
  a setting, so a duplicate key is an error here.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Hashable
from pathlib import Path
from typing import Any, NamedTuple

import yaml

MAX_SPEC_BYTES = 1024 * 1024
#: Deeper than any spec needs (a Team is 6 levels deep); far below Python's recursion limit.
MAX_NESTING = 32
#: Values (scalars, lists and mappings) in one document, aliases expanded. A Team with
#: 100 services holds about 3,000.
MAX_VALUES = 100_000
#: The longest integer literal read; Python refuses to build ints of over 4,300 digits.
MAX_NUMBER_CHARS = 32

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a symbolic link"))


class YamlProblem(ValueError):
    """The file is not a single, well-formed YAML mapping, or not a file to read."""


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def strict_loader(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    """The loader of spec files on ``base`` (the C or the pure-Python safe loader)."""

    class Strict(base):  # type: ignore[misc, valid-type]
        def construct_document(self, node: yaml.Node) -> Any:
            _check_tree(node)
            return super().construct_document(node)

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, OverflowError) as err:
                if isinstance(err, YamlProblem):
                    raise
                # a scalar its constructor cannot build, such as the date 2024-13-45
                raise YamlProblem(f"line {_line(node)}: cannot read this value: {err}"
                                  ) from None

        def construct_mapping(self, node: yaml.MappingNode,
                              deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                line = _line(key_node)
                if not isinstance(key, Hashable):
                    continue  # the base constructor reports "found unhashable key"
                if key in seen:
                    raise YamlProblem(
                        f"line {line}: duplicate key {_brief(key)} (first at line "
                        f"{seen[key]}); YAML would silently keep only the last value"
                    )
                seen[key] = line
            return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

        def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
            if len(node.value) > MAX_NUMBER_CHARS:
                raise YamlProblem(f"line {_line(node)}: a number of {len(node.value)} "
                                  f"characters; spec numbers have at most {MAX_NUMBER_CHARS}")
            return super().construct_yaml_int(node)  # type: ignore[no-any-return]

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                           Strict.construct_mapping)
    Strict.add_constructor("tag:yaml.org,2002:int", Strict.construct_yaml_int)
    return Strict


_LOADER = strict_loader(_Base)


def _check_tree(root: yaml.Node) -> None:
    """Bound the document before anything is built from it: at most :data:`MAX_VALUES`
    values and :data:`MAX_NESTING` levels, counted with aliases expanded, and no value
    that contains itself. An alias makes the composed graph share a node, which is how a
    kilobyte can stand for a billion values; each distinct node is visited once here, so
    this costs what the file holds, not what it expands to."""
    size: dict[int, tuple[int, int]] = {}  # id(node): (values, levels) when expanded
    open_: set[int] = set()  # the nodes being walked: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_.discard(key)
            values = 1 + sum(size[id(child)][0] for child in children)
            levels = 1 + max((size[id(child)][1] for child in children), default=0)
            if values > MAX_VALUES:
                raise YamlProblem(f"line {_line(node)}: holds more than {MAX_VALUES:,} "
                                  "values with its aliases (*) expanded; spec files may "
                                  "not be that large")
            if levels > MAX_NESTING:
                raise YamlProblem(f"line {_line(node)}: nested more than {MAX_NESTING} "
                                  "levels deep; no spec is")
            size[key] = (values, levels)
        elif key in open_:
            raise YamlProblem(f"line {_line(node)}: this value contains itself through an "
                              "alias (*); spec files must be finite")
        elif key not in size:
            open_.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _brief(value: Any) -> str:
    text = repr(value) if isinstance(value, str | int | float | bool) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


# --- which files are read ------------------------------------------------------------------


class SpecFile(NamedTuple):
    """A regular file inside the platform directory: the path to open (symbolic links
    resolved) and its ``stat``, taken without opening it."""

    real: str
    stat: os.stat_result


def inside(directory: str, root: str) -> str:
    """The real path of ``directory``, which must be ``root`` or lie inside it (``root``
    is a real path); raises :class:`YamlProblem` when a symbolic link leads out."""
    real = os.path.realpath(directory)
    if real != root and not real.startswith(os.path.join(root, "")):
        raise YamlProblem(_LEAVES)
    return real


_LEAVES = ("is a symbolic link that leads outside the platform directory; spec files "
           "must be inside it (replace the link with the file)")


def spec_file(real_dir: str, name: str, root: str) -> SpecFile:
    """Check the directory entry ``name`` of ``real_dir`` (a real path inside the real
    platform directory ``root``) before anything reads it. Raises :class:`YamlProblem`
    for anything but a regular file inside ``root``, OSError when it cannot be stat'ed."""
    path = f"{real_dir}/{name}"  # os.path.join costs more, 1,000 times a load
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        path = inside(path, root)
        st = os.stat(path)
    _regular(st)
    return SpecFile(path, st)


def _regular(st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise YamlProblem(f"is {kind}, not a regular file; spec files must be regular files")


# --- reading and parsing -------------------------------------------------------------------


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read one YAML document that must be a mapping, refusing non-regular files,
    oversize files, duplicate keys, alias bombs, multiple documents and non-UTF-8 text."""
    return parse_yaml_mapping(read_spec_bytes(path))


def read_spec_bytes(path: Path | str, expected: os.stat_result | None = None) -> bytes:
    """A regular file's bytes, refusing oversize files before reading them.

    Never follows a symbolic link (resolve it with :func:`spec_file` first) and never
    blocks on a FIFO; with ``expected`` (from :func:`spec_file`), the file opened must
    be the one checked."""
    # os-level calls: loading reads 1,000 of these, and io.open's objects cost more
    # than the reading itself
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise YamlProblem("is a symbolic link; spec files must be regular files") from None
        raise
    try:
        st = os.fstat(fd)
        _regular(st)
        if expected is not None and (st.st_dev, st.st_ino) != (expected.st_dev,
                                                                expected.st_ino):
            raise YamlProblem("changed while goldenpath was reading it; run the command again")
        size = st.st_size
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


def check_bounds(text: str) -> None:
    """YamlProblem unless ``text`` is within what a spec file may be: at most
    :data:`MAX_SPEC_BYTES`, and each document within :data:`MAX_VALUES` values and
    :data:`MAX_NESTING` levels with its aliases expanded. Composes only (nodes, no
    values): for readers other than this module's (the round-trip editor) that must not
    build anything from a text the loader would refuse for its size."""
    size = len(text.encode("utf-8"))
    if size > MAX_SPEC_BYTES:
        raise YamlProblem(f"file is {size} bytes; spec files are limited to {MAX_SPEC_BYTES}")
    try:
        for root in yaml.compose_all(text, Loader=_LOADER):
            if root is not None:
                _check_tree(root)
    except yaml.YAMLError:
        return  # not YAML: the reader's own parser says where
    except RecursionError:
        raise YamlProblem(f"invalid YAML: nested more than {MAX_NESTING} levels deep; "
                          "no spec is") from None


def parse_yaml_mapping(data: bytes) -> dict[str, Any]:
    """Parse one YAML document that must be a mapping (see :func:`read_yaml_mapping`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise YamlProblem(f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    try:
        documents = list(yaml.load_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as err:
        # only the problem: the error's own text quotes the offending line
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlProblem(f"{where}invalid YAML: {err.problem}") from None
    except yaml.YAMLError as err:
        raise YamlProblem(f"invalid YAML: {err}") from None
    except RecursionError:  # the pure-Python composer recurses per level
        raise YamlProblem(f"invalid YAML: nested more than {MAX_NESTING} levels deep; "
                          "no spec is") from None
    documents = [doc for doc in documents if doc is not None]
    if len(documents) != 1:
        raise YamlProblem(f"expected exactly one YAML document, found {len(documents)}")
    if not isinstance(documents[0], dict):
        raise YamlProblem(f"expected a mapping at the top, found {type(documents[0]).__name__}")
    return documents[0]
