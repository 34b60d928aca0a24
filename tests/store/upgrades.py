"""Helpers of the upgrade tests: the previous release's database (the committed fixture
its own code wrote, see tests/store/fixtures/release_0001.py), its code (extracted from
git history), schema snapshots to compare revisions, and migrating to a revision."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, MetaData, insert, inspect, text

from goldenpath.store import Store, migrate
from tests.factories import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
#: the previous release: the last commit whose schema head was 0001 (the parent of the
#: commit that added 0002)
PREVIOUS_RELEASE = "94f2f81f5e4a40ea3083f89ba8ede9f8bc7bbca5"
PREVIOUS_HEAD = "0001"
#: the previous release's tables, parents first
TABLES = ("requests", "request_logs", "request_steps", "audit", "api_tokens")


def fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "release-0001.json").read_text())
    return data


def to(store: Store, revision: str, *, down: bool = False) -> None:
    """Migrate ``store``'s database to ``revision`` (up, or down with ``down``)."""
    cfg = migrate.config()
    with store.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def load(store: Store, data: dict[str, Any]) -> None:
    """The fixture's rows inserted as they are, naming only the columns the previous
    release wrote (so, on a newer schema, exactly its INSERTs)."""
    with store.db.engine.begin() as conn:
        meta = MetaData()
        meta.reflect(conn)
        sqlite = conn.dialect.name == "sqlite"
        for name in TABLES:
            rows = [{key: _typed(value, meta.tables[name].c[key].type, sqlite)
                     for key, value in row.items()} for row in data["tables"][name]]
            if rows:
                conn.execute(insert(meta.tables[name]), rows)


def _typed(value: Any, type_: Any, sqlite: bool) -> Any:
    if value is None or type(type_).__name__ not in ("DATETIME", "TIMESTAMP", "DateTime"):
        return value
    at = datetime.fromisoformat(value).astimezone(UTC)
    return at.replace(tzinfo=None) if sqlite else at


def at_revision(store: Store, revision: str, data: dict[str, Any] | None = None) -> None:
    """An empty database migrated to ``revision``, with the fixture's rows if given."""
    to(store, revision)
    if data is not None:
        load(store, data)


Snapshot = dict[str, dict[str, Any]]


def snapshot(store: Store) -> Snapshot:
    """Every table's columns (type, nullable, server default), indexes, keys, and the
    database's triggers: what a migration changes."""
    with store.db.engine.connect() as conn:
        found = inspect(conn)
        tables: Snapshot = {}
        for name in sorted(found.get_table_names()):
            if name == "alembic_version":
                continue
            tables[name] = {
                "columns": {c["name"]: {"type": _type(c["type"]), "nullable": c["nullable"],
                                        "default": _default(c.get("default"))}
                            for c in found.get_columns(name)},
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in found.get_indexes(name)),
                "unique": sorted(tuple(u["column_names"])
                                 for u in found.get_unique_constraints(name)),
                "primary": tuple(found.get_pk_constraint(name)["constrained_columns"]),
                "foreign": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                                   (f.get("options") or {}).get("ondelete"))
                                  for f in found.get_foreign_keys(name)),
            }
        tables["<triggers>"] = {"names": _triggers(conn)}
    return tables


def _type(type_: Any) -> str:
    try:
        return str(type_.compile())
    except Exception:  # a dialect type without a generic compiler
        return type(type_).__name__


def _default(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip("'").split("::")[0].strip("'")  # PostgreSQL: '1'::integer


def _triggers(conn: Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
    return [row[0] for row in conn.execute(text(query))]


def expand_problems(before: Snapshot, after: Snapshot) -> list[str]:
    """What a migration from ``before`` to ``after`` does that code written for
    ``before`` may not survive: anything but adding tables, nullable or server-defaulted
    columns, non-unique indexes and triggers."""
    problems = []
    for table, old in before.items():
        new = after.get(table)
        if new is None:
            problems.append(f"{table}: table dropped")
            continue
        if table == "<triggers>":
            problems += [f"trigger {name} dropped" for name in old["names"]
                         if name not in new["names"]]
            continue
        for column, spec in old["columns"].items():
            now = new["columns"].get(column)
            if now is None:
                problems.append(f"{table}.{column}: column dropped or renamed")
            elif now["type"] != spec["type"]:
                problems.append(f"{table}.{column}: type {spec['type']} changed to "
                                f"{now['type']}")
            elif spec["nullable"] and not now["nullable"]:
                problems.append(f"{table}.{column}: made NOT NULL")
        for column, spec in new["columns"].items():
            if column not in old["columns"] and not spec["nullable"] \
                    and spec["default"] is None:
                problems.append(f"{table}.{column}: new NOT NULL column without a server "
                                "default (the older version's INSERTs do not name it)")
        added = set(new["indexes"]) - set(old["indexes"])
        problems += [f"{table}: new unique index {name} on existing columns"
                     for name, columns, unique in sorted(added)
                     if unique and set(columns) <= set(old["columns"])]
        problems += [f"{table}: new unique constraint on {', '.join(columns)}"
                     for columns in set(new["unique"]) - set(old["unique"])
                     if set(columns) <= set(old["columns"])]
        if new["primary"] != old["primary"] or new["foreign"] != old["foreign"]:
            problems.append(f"{table}: primary or foreign keys changed")
    return problems


@dataclass(frozen=True)
class OldCode:
    """The previous release's ``goldenpath`` package, extracted from git history."""

    root: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GOLDENPATH_") and k != "PYTHONPATH"}
        env.update(PYTHONPATH=str(self.root), **extra)
        return env


def previous_release(tmp: Path) -> OldCode:
    """The previous release's code under ``tmp``; the test is skipped, with the reason,
    when this checkout lacks the commit (a shallow clone), even with
    GOLDENPATH_REQUIRE_TOOLS: it is history, not a tool."""
    found = subprocess.run(["git", "cat-file", "-e", f"{PREVIOUS_RELEASE}^{{commit}}"],
                           cwd=ROOT, capture_output=True, check=False)
    if found.returncode != 0:
        pytest.skip(f"the previous release's commit {PREVIOUS_RELEASE[:12]} is not in this "
                    "checkout (a shallow clone?): `git fetch --unshallow` to run the old "
                    "code against the new schema")
    tmp.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "--format=tar", PREVIOUS_RELEASE, "goldenpath"],
                             cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
    return OldCode(tmp)
