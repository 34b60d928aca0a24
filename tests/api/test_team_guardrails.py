"""A team change the spec loader accepts but a guardrail refuses is refused when it is
submitted (422 naming the guardrail), not later by the worker: nothing is stored, audited
or committed. The platform here bounds objects tighter than the example's (a team at its
object cap, objects of at most 16 KiB); what the changes ask for is within every rule of
the spec (subjects, services), so only the guardrails on the rendered objects refuse."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from api.main import create_app
from goldenpath.services import teams as svc
from tests.api.conftest import Api, make_settings, mint_all
from tests.gitops.conftest import commits, git

#: the example's payments team renders this many objects (its cap here)
PAYMENTS_OBJECTS = 82
TOO_LARGE = (" bytes as JSON, more than the platform's maximum of 16384 "
             "(spec.limits.maxObjectBytes): client-side apply copies the object into an "
             "annotation limited to 256 KiB; render less into it (fewer subjects, services "
             "or rules) or ask a platform admin")


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "--bare", "-q", "-b", "main", str(path))
    return path


@pytest.fixture
def api(tmp_path: Path, remote: Path) -> Iterator[Api]:
    settings = make_settings(tmp_path, gitops_repo=str(remote))
    path = settings.platform_dir / "platform.yaml"
    platform = yaml.safe_load(path.read_text())
    limits = platform["spec"]["limits"]
    limits["maxObjectBytes"] = 16384  # the example's largest object is under 13 KiB
    limits["grants"]["payments"]["maxObjects"] = PAYMENTS_OBJECTS
    path.write_text(yaml.safe_dump(platform, sort_keys=False))
    assert svc.seed(settings.platform_dir, svc.Where(settings=settings)) is not None
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings, mint_all(client))


def read(api: Api, team: str) -> tuple[dict[str, Any], str]:
    answer = api.client.get(f"/v1/teams/{team}", headers=api.auth("owner"))
    assert answer.status_code == 200, answer.text
    return copy.deepcopy(answer.json()["spec"]), answer.headers["ETag"]


def many_members(doc: dict[str, Any]) -> dict[str, Any]:
    """100 subjects of 200 characters: each is a valid subject and the list is within
    the spec's bound, but the RoleBinding naming them all is over 16 KiB."""
    doc["spec"]["members"] = [f"group:{'m' * 190}-{i:03d}" for i in range(100)]
    return doc


def one_more_service(doc: dict[str, Any]) -> dict[str, Any]:
    doc["spec"]["services"].append({"name": "extra", "template": "python-service",
                                    "port": 8080})
    return doc


def refused(api: Api, remote: Path, answer: Any, guardrail: str,
            team: str = "payments") -> list[str]:
    """The answer is 422 naming only ``guardrail``; nothing was stored (no request, so
    nothing audited for the team) or committed."""
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "PolicyViolation"
    assert body["guardrails"] == [guardrail]
    audit = api.client.get(f"/v1/audit?team={team}", headers=api.auth("admin")).json()
    assert audit["entries"] == []
    assert len(commits(remote)) == 1  # the seed
    details: list[str] = body["details"]
    return details


def test_an_update_breaking_the_object_size_guardrail_is_422_at_submission(
        api: Api, remote: Path) -> None:
    doc, etag = read(api, "payments")
    answer = api.client.put("/v1/teams/payments", json=many_members(doc),
                            headers={**api.auth("owner"), "If-Match": etag})
    details = refused(api, remote, answer, "object-size")
    # an owner reads the team's own objects verbatim; the AppProjects, in the platform's
    # argocd namespace, are one redacted line (see tests/api/test_team_privacy.py)
    *own, elsewhere = details
    assert [d.partition(": is ")[0] for d in own] == [
        "[object-size] nonprod/RoleBinding payments-dev/goldenpath-members",
        "[object-size] nonprod/RoleBinding payments-staging/goldenpath-members",
        "[object-size] prod/RoleBinding payments-prod/goldenpath-members"]
    assert all(d.endswith(TOO_LARGE) for d in own), details
    assert elsewhere.startswith("[object-size] team payments: "), elsewhere
    assert "argocd" not in elsewhere and "AppProject" not in elsewhere, elsewhere


def test_an_update_breaking_the_team_objects_guardrail_is_422_at_submission(
        api: Api, remote: Path) -> None:
    doc, etag = read(api, "payments")
    answer = api.client.put("/v1/teams/payments", json=one_more_service(doc),
                            headers={**api.auth("owner"), "If-Match": etag})
    [detail] = refused(api, remote, answer, "team-objects")
    assert detail.startswith("[team-objects] team payments: renders "), detail
    assert detail.endswith(
        f"objects, more than the {PAYMENTS_OBJECTS} the platform allows a team; ask a "
        "platform admin to raise spec.limits.maxObjectsPerTeam, or to grant the team more "
        "in spec.limits.grants.payments.maxObjects, in platform.yaml"), detail


def test_an_admins_new_team_breaking_a_guardrail_is_422_at_submission(
        api: Api, remote: Path) -> None:
    doc = many_members({"apiVersion": "goldenpath.dev/v1alpha1", "kind": "Team",
                        "metadata": {"name": "fraud"},
                        "spec": {"displayName": "Fraud", "costCenter": "CC-9",
                                 "owners": ["user:alice@example.com"],
                                 "environments": ["dev"]}})
    answer = api.client.post("/v1/teams", json=doc, headers=api.auth("admin"))
    details = refused(api, remote, answer, "object-size", team="fraud")
    assert [d.partition(": is ")[0] for d in details] == [
        "[object-size] nonprod/AppProject argocd/fraud",
        "[object-size] nonprod/RoleBinding fraud-dev/goldenpath-members"]
    assert all(d.endswith(TOO_LARGE) for d in details), details


def test_a_plan_of_such_a_change_is_the_same_422(api: Api, remote: Path) -> None:
    doc, _ = read(api, "payments")
    answer = api.client.post("/v1/teams/payments/plan", json=one_more_service(doc),
                             headers=api.auth("owner"))
    refused(api, remote, answer, "team-objects")


def test_the_same_changes_within_the_bounds_are_accepted(api: Api, remote: Path) -> None:
    """The guardrails refuse the size and the count, nothing else of these changes."""
    doc, etag = read(api, "payments")
    doc["spec"]["members"] = [f"group:m-{i:03d}" for i in range(100)]
    answer = api.client.put("/v1/teams/payments", json=doc,
                            headers={**api.auth("owner"), "If-Match": etag})
    assert answer.status_code in (200, 202), answer.text
