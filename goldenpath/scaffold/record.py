"""What a service repository remembers about its origin: ``.goldenpath/template.json``.

Template name, version (the templates' git commit, plus the version the template
declares) and the answers it was rendered with; ``update-service`` re-renders from these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.errors import TemplateError

RECORD_PATH = ".goldenpath/template.json"


@dataclass(frozen=True)
class Record:
    template: str
    #: git commit of the template directory; None when the templates are not in git
    commit: str | None
    declared_version: str
    answers: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {"template": self.template, "commit": self.commit,
                "declaredVersion": self.declared_version, "answers": self.answers}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @property
    def version(self) -> str:
        return self.commit or self.declared_version


def write_record(project: Path, record: Record) -> None:
    path = project / RECORD_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.to_json(), encoding="utf-8")


def read_record(project: Path) -> Record:
    path = project / RECORD_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Record(data["template"], data.get("commit"), str(data["declaredVersion"]),
                      dict(data.get("answers", {})))
    except FileNotFoundError:
        raise TemplateError(f"{RECORD_PATH} is missing: the repository was not made "
                            "from a golden path, so it cannot be updated") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise TemplateError(f"{RECORD_PATH} is unreadable: {err!r}") from err

