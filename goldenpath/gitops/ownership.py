"""The ownership manifest: which files of the control repository goldenpath wrote.

The repository is shared with people: they may add files goldenpath knows nothing about,
and they may edit goldenpath's files by hand. So goldenpath records, in the repository
itself, every path it owns with the git blob id of the content it wrote. That record
answers three questions without reading a single file:

- may goldenpath delete or overwrite a path? only if the path is owned;
- was an owned file edited by hand (drift)? its blob id in the tree differs from the record;
- can a unit (one team, one cluster's platform objects) be reused unchanged? yes when its
  fingerprint matches the record and none of its files drifted;
- need a team be rendered at all? not when the input digest recorded with its files
  (:mod:`goldenpath.render.digest`) equals the current one and none of its files drifted:
  the files are what the current code renders from the current inputs, and they passed
  the guardrails when goldenpath wrote them.

One manifest file per unit (``.goldenpath/owned/<unit>.txt``), so a change to one team
rewrites only that team's record, not a list of every file in the repository.
"""

from __future__ import annotations

import hashlib
import marshal
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from goldenpath.render.bundle import Resource

OWNED_DIR = ".goldenpath/owned"
_MARSHAL_VERSION = 2
#: Manifest lines: ``<field> <value>`` and ``<blob id> <path>`` (regular expressions
#: read a thousand manifests several times faster than a loop over their lines).
_FIELD = re.compile(r"^(fingerprint|inputs) (.*)$", re.MULTILINE)
_ENTRY = re.compile(r"^([0-9a-f]{40}) (.+)$", re.MULTILINE)
#: Bump when the serialisation or the layout changes, so every unit is written afresh.
FORMAT_VERSION = "2"
_HEADER = "# goldenpath ownership manifest: the files goldenpath wrote for unit {unit},\n" \
          "# with the git blob id of their content. Generated; do not edit.\n"


def blob_id(content: bytes) -> str:
    """The id git gives ``content`` as a blob (``git hash-object``); the content hash
    recorded for each file, so comparing with a tree needs no file reads."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def fingerprint(entries: Iterable[tuple[str, Resource]]) -> str:
    """A digest of what a unit renders to, several times cheaper than serialising it.

    ``marshal`` format 2 has no back-references, so equal bodies give equal bytes however
    their strings are shared in memory (format 3 and later depend on reference counts).
    A different key order or another Python's marshal format only costs a cache miss (the
    unit is serialised again, and a unit serialising to its recorded files is kept as
    recorded: see ``tree.desired``), never a wrong file or a needless commit.
    """
    digest = hashlib.sha256(FORMAT_VERSION.encode())
    for path, resource in entries:
        digest.update(path.encode())
        digest.update(marshal.dumps(resource.body, _MARSHAL_VERSION))
    return digest.hexdigest()


@dataclass(frozen=True)
class UnitState:
    """The files of one unit: path -> blob id, and the bytes of those not yet in git."""

    fingerprint: str
    #: path -> blob id; a Mapping, as a record of the base may read it only when used
    blobs: Mapping[str, str]
    contents: dict[str, bytes] = field(default_factory=dict, compare=False)
    #: path -> (kind, namespace/name) of the object in it, for summaries without parsing
    names: dict[str, tuple[str, str]] = field(default_factory=dict, compare=False)
    #: a team unit's input digest when it was written ("" for other units)
    inputs: str = ""

    @classmethod
    def of(cls, fp: str, files: dict[str, bytes],
           names: dict[str, tuple[str, str]] | None = None, inputs: str = "") -> UnitState:
        return cls(fp, {p: blob_id(c) for p, c in files.items()}, dict(files), names or {},
                   inputs)

    def with_inputs(self, inputs: str) -> UnitState:
        """The same files recorded under another input digest (the code or an input
        changed, the objects did not): only the manifest is rewritten."""
        return UnitState(self.fingerprint, self.blobs, inputs=inputs)


def manifest_path(unit: str) -> str:
    return f"{OWNED_DIR}/{unit}.txt"


def unit_of_manifest(path: str) -> str | None:
    prefix = OWNED_DIR + "/"
    if path.startswith(prefix) and path.endswith(".txt") and "/" not in path[len(prefix):]:
        return path[len(prefix):-len(".txt")]
    return None


def format_manifest(unit: str, state: UnitState) -> bytes:
    lines = [_HEADER.format(unit=unit), f"fingerprint {state.fingerprint}\n"]
    if state.inputs:
        lines.append(f"inputs {state.inputs}\n")
    lines += [f"{blob} {path}\n" for path, blob in sorted(state.blobs.items())]
    return "".join(lines).encode()


def parse_manifest(content: bytes) -> UnitState:
    """Read a manifest; a damaged one yields an empty fingerprint, so the unit is rewritten."""
    text = content.decode("utf-8", "replace")
    fields = {"fingerprint": "", "inputs": ""}
    fields.update(_FIELD.findall(text))
    # A manifest never lists a manifest (the base analysis relies on it): drop any such line.
    blobs = {path: blob for blob, path in _ENTRY.findall(text)
             if not path.startswith(OWNED_DIR + "/")}
    return UnitState(fields["fingerprint"], blobs, inputs=fields["inputs"])
