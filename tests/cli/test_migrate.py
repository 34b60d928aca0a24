"""``goldenpath migrate``: the deployment's PreSync Job runs it before a rollout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from goldenpath.cli import app
from goldenpath.settings import get_settings
from goldenpath.store import migrate as schema


def _run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args), terminal_width=400)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _revision(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(revision)


def test_migrate_brings_an_empty_database_to_head_once(here: Path) -> None:
    first = _run("migrate")
    assert first.exit_code == 0, first.output
    db = here / ".goldenpath" / "goldenpath.db"
    assert f"schema migrated from empty to {schema.head()}" in first.output
    assert _revision(db) == schema.head()
    again = _run("migrate")
    assert again.exit_code == 0, again.output
    assert f"schema already at {schema.head()}" in again.output


def test_a_database_of_a_newer_goldenpath_is_refused_and_kept(here: Path) -> None:
    assert _run("migrate").exit_code == 0
    db = here / ".goldenpath" / "goldenpath.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    result = _run("migrate")
    assert result.exit_code == 1
    assert "is at schema revision f00dfeed, which this goldenpath does not know" in (
        result.output)
    assert _revision(db) == "f00dfeed"


def test_an_unreachable_database_is_one_error_line_without_its_password(
        here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENPATH_DATABASE_URL",
                       "postgresql://goldenpath:s3cr3t-pw@127.0.0.1:1/goldenpath")
    get_settings.cache_clear()
    result = _run("migrate")
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert "127.0.0.1" in result.output
    assert "s3cr3t-pw" not in result.output
    assert "Traceback" not in result.output
    assert not (here / ".goldenpath").exists()
