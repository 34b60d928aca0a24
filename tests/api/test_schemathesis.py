"""Property-based tests from the API's own OpenAPI document (schemathesis): whatever
requests the document allows, or nearly allows, the API answers without a 5xx and with
responses that match the document (status codes, bodies, headers, content types; bad
input refused). Run as the bootstrap admin, who reaches every route.

One check is left out: ``positive_data_acceptance`` (a schema-valid body must be
accepted). The document cannot say everything the use cases check (a service name must
be free, a template's parameter patterns, a subject must be printable), and those
refusals are 4xx by design."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api.main import create_app
from tests.api.conftest import ADMIN_TOKEN, make_settings

# create_app does no I/O; the schema is read from the app itself at collection
_ROOT = Path(tempfile.mkdtemp(prefix="goldenpath-schemathesis-"))
# seeded: the team routes read the embedded control repository's specs
APP = create_app(make_settings(_ROOT, api_workers=0), seed=True)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _lifespan() -> Iterator[None]:
    with TestClient(APP):  # the store is open while the cases run
        yield


@schema.exclude(path="/v1/requests/{request_id}/events").parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_no_5xx_and_answers_match_the_document(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                           excluded_checks=[checks.positive_data_acceptance])
