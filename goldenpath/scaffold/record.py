"""What a service repository remembers about its origin: ``.goldenpath/template.json``.

Template name, version (the templates' git commit, plus the version the template
declares) and the inputs it was rendered with (:class:`~.context.ServiceInputs`: team,
display name, environments and the service's spec entry, parameters included).

The file lives in a tenant's repository, so reading it back is reading untrusted input:
it must be a regular file of at most :data:`MAX_RECORD_BYTES`, and its content is parsed
by strict models (unknown keys refused, every spec value validated as the spec loader
validates it). It only ever says how the repository was rendered, the base of a 3-way
update; what a service is rendered with now comes from the current spec.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError

from goldenpath.errors import TemplateError
from goldenpath.scaffold.context import ServiceInputs
from goldenpath.spec.models import SpecModel
from goldenpath.spec.types import DNSLabel

RECORD_PATH = ".goldenpath/template.json"
MAX_RECORD_BYTES = 64 * 1024
_MAX_ERRORS = 10


@dataclass(frozen=True)
class Record:
    template: str
    #: git commit of the template directory; None when the templates are not in git
    commit: str | None
    declared_version: str
    inputs: ServiceInputs

    def to_json(self) -> str:
        data = {"template": self.template, "commit": self.commit,
                "declaredVersion": self.declared_version,
                "inputs": self.inputs.model_dump(mode="json", by_alias=True, exclude_none=True)}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @property
    def version(self) -> str:
        return self.commit or self.declared_version


class _RecordFile(SpecModel):
    template: DNSLabel
    commit: str | None = Field(pattern=r"^[0-9a-f]{40}$")
    declared_version: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z.+-]+$")
    inputs: ServiceInputs


def write_record(project: Path, record: Record) -> None:
    path = _inside(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.to_json(), encoding="utf-8")


def read_record(project: Path) -> Record:
    return parse_record(_load(_inside(project)))


def _inside(project: Path) -> Path:
    """The record's path, refused when a symbolic link on the way (``.goldenpath`` itself,
    in a repository its team controls) would lead out of the project: O_NOFOLLOW guards
    only the last component."""
    path = project / RECORD_PATH
    if path.parent.is_symlink() or not path.parent.resolve().is_relative_to(project.resolve()):
        raise TemplateError(f"{Path(RECORD_PATH).parent} is a symbolic link; it must be a "
                            "directory of the repository")
    return path


def parse_record(raw: bytes) -> Record:
    """The record in ``raw`` (at most MAX_RECORD_BYTES, read by the caller), validated."""
    if len(raw) > MAX_RECORD_BYTES:
        raise TemplateError(f"{RECORD_PATH} is larger than {MAX_RECORD_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise TemplateError(f"{RECORD_PATH} is not UTF-8 JSON: {_position(err)}") from None
    if isinstance(data, dict) and "answers" in data and "inputs" not in data:
        raise TemplateError(f"{RECORD_PATH}: recorded by an older goldenpath (full context "
                            "under 'answers'); it cannot be trusted as it is, so the service "
                            "cannot be updated from it")
    try:
        parsed = _RecordFile.model_validate(data)
    except ValidationError as err:
        raise TemplateError(f"{RECORD_PATH} is invalid: {_problems(err)}") from None
    return Record(parsed.template, parsed.commit, parsed.declared_version, parsed.inputs)


def _load(path: Path) -> bytes:
    """The bytes of ``path``: a regular file (a symbolic link is refused, never followed),
    read up to one byte past MAX_RECORD_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise TemplateError(f"{RECORD_PATH} is missing: the repository was not made "
                            "from a golden path, so it cannot be updated") from None
    except OSError as err:
        raise TemplateError(f"{RECORD_PATH} cannot be opened ({err.strerror}); it must be "
                            "a regular file") from None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TemplateError(f"{RECORD_PATH} is not a regular file")
        return file.read(MAX_RECORD_BYTES + 1)


def _position(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"{err.msg} at line {err.lineno} column {err.colno}"
    return "invalid UTF-8"


def _problems(err: ValidationError) -> str:
    """Where and which rule, never the value: the record's content is untrusted."""
    issues = err.errors(include_input=False, include_url=False)
    shown = [f"{'.'.join(str(p) for p in issue['loc']) or '(root)'}: {issue['msg']}"
             for issue in issues[:_MAX_ERRORS]]
    more = len(issues) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
