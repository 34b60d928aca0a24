"""Grafana dashboard JSON, built from plain dicts.

Panels read from the ``datasource`` template variable, never a datasource id, so a
dashboard works on every cluster's Grafana whatever its datasource is called. Layout is
computed (two panels per row) so panel order is the only thing a dashboard states.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

SCHEMA_VERSION = 39
UID_MAX = 40
#: 20 base32 characters: 100 bits of the digest in every uid.
_DIGEST_CHARS = 20
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_PANEL_WIDTH, _PANEL_HEIGHT, _GRID_COLUMNS = 12, 8, 24


def uid(*parts: str) -> str:
    """A stable dashboard uid of at most 40 characters: readable prefix + digest.

    The prefix joins the parts with ``-`` (``a`` + ``b-c`` reads like ``a-b`` + ``c``)
    and is truncated, so the digest alone tells dashboards apart: 100 bits of SHA-256 over
    the parts joined with ``/`` (which no name contains), far beyond what a tenant can
    search for a second set of names with another team's uid. Lower-case base32, as
    Grafana may store uids in a case-insensitive column.
    """
    raw = hashlib.sha256("/".join(parts).encode()).digest()
    digest = base64.b32encode(raw).decode().lower()[:_DIGEST_CHARS]
    readable = re.sub(r"[^A-Za-z0-9-]", "-", "-".join(parts))[: UID_MAX - len(digest) - 1]
    return f"{readable.rstrip('-')}-{digest}"


def target(expr: str, legend: str, ref: str) -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def panel(kind: str, title: str, queries: list[tuple[str, str]], unit: str,
          **options: Any) -> dict[str, Any]:
    """A panel of ``kind`` (timeseries, stat) plotting (expr, legend) queries."""
    targets = [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in
               enumerate(queries)]
    return {"type": kind, "title": title, "datasource": DATASOURCE, "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, **options}


def datasource_variable() -> dict[str, Any]:
    return {"name": "datasource", "label": "Data source", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0, "refresh": 1}


def dashboard(uid_: str, title: str, tags: list[str], panels: list[dict[str, Any]],
              links: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "uid": uid_, "title": title, "tags": sorted(tags), "schemaVersion": SCHEMA_VERSION,
        "editable": False, "timezone": "utc", "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [datasource_variable()]},
        "panels": _laid_out(panels), "links": links or [],
    }


def link(title: str, uid_: str) -> dict[str, Any]:
    """A dashboard link by uid; Grafana resolves ``/d/<uid>`` whatever the slug."""
    return {"title": title, "type": "link", "url": f"/d/{uid_}", "targetBlank": False}


def _laid_out(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    per_row = _GRID_COLUMNS // _PANEL_WIDTH
    return [{**p, "id": i + 1,
             "gridPos": {"x": (i % per_row) * _PANEL_WIDTH, "y": (i // per_row) * _PANEL_HEIGHT,
                         "w": _PANEL_WIDTH, "h": _PANEL_HEIGHT}}
            for i, p in enumerate(panels)]
