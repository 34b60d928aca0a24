"""Claims to subjects: what a token can claim to be, and nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from goldenpath.errors import Unauthorized
from goldenpath.identity import Principal, principal_from_claims
from goldenpath.identity.principal import MAX_GROUPS


def _principal(claims: dict[str, Any], user_claim: str = "email",
               groups_claim: str = "groups") -> Principal:
    return principal_from_claims(claims, user_claim=user_claim, groups_claim=groups_claim)


def test_user_and_groups_become_prefixed_subjects() -> None:
    principal = _principal({"sub": "00u1", "email": "alice@example.com",
                            "groups": ["payments-devs", "support"]})
    assert principal.subjects == {"user:alice@example.com", "group:payments-devs",
                                  "group:support"}
    assert principal.actor == "user:alice@example.com"
    assert not principal.admin


def test_the_user_falls_back_to_sub_without_the_user_claim() -> None:
    assert _principal({"sub": "00u1"}).subjects == {"user:00u1"}


def test_claim_names_are_configurable() -> None:
    principal = _principal({"sub": "00u1", "preferred_username": "alice",
                            "roles": ["payments-owners"], "groups": ["ignored"]},
                           user_claim="preferred_username", groups_claim="roles")
    assert principal.subjects == {"user:alice", "group:payments-owners"}


@pytest.mark.parametrize("entry", ["user:alice", "group:platform-admins",
                                   "serviceaccount:platform/goldenpath"])
def test_a_group_name_shaped_like_a_subject_stays_a_group(entry: str) -> None:
    """A group named ``user:alice`` must not make its members alice (nor an admin)."""
    principal = _principal({"email": "bob@example.com", "groups": [entry]})
    assert principal.subjects == {"user:bob@example.com"}


def test_groups_no_spec_can_name_are_left_out() -> None:
    principal = _principal({"email": "bob@example.com",
                            "groups": ["Domain Users", "a,b", "ok", "tab\there"]})
    assert principal.subjects == {"user:bob@example.com", "group:ok"}


def test_an_unverified_email_is_refused() -> None:
    with pytest.raises(Unauthorized) as caught:
        _principal({"sub": "x", "email": "ceo@example.com", "email_verified": False})
    assert str(caught.value) == ("bearer token refused: its email claim is not verified "
                                 "(email_verified is false)")


@pytest.mark.parametrize(("claims", "message"), [
    ({}, "it names no user (claim 'sub' is missing)"),
    ({"email": 42}, "it names no user (claim 'email' is not a string)"),
    ({"email": ["alice@example.com"]}, "it names no user (claim 'email' is not a string)"),
    ({"email": ""}, "it names no user (claim 'email' is not a string)"),
    ({"email": "alice smith@example.com"}, "its 'email' claim is not a user name a spec can "
     "list (at most 247 characters, no whitespace, ':' or ',')"),
    ({"email": "a" * 248}, "its 'email' claim is not a user name a spec can "
     "list (at most 247 characters, no whitespace, ':' or ',')"),
    ({"sub": "x:y"}, "its 'sub' claim is not a user name a spec can "
     "list (at most 247 characters, no whitespace, ':' or ',')"),
])
def test_an_unusable_user_claim_is_refused(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        _principal(claims)
    assert str(caught.value) == f"bearer token refused: {message}"


@pytest.mark.parametrize(("groups", "message"), [
    ("payments-devs", "its 'groups' claim is not a list of group names"),
    ({"payments-devs": 1}, "its 'groups' claim is not a list of group names"),
    ([f"g{i}" for i in range(MAX_GROUPS + 1)], "its 'groups' claim lists more than 256 groups"),
    ([1], "its 'groups' claim holds an entry that is not a group name of 1 to 247 characters"),
    ([""], "its 'groups' claim holds an entry that is not a group name of 1 to 247 characters"),
    (["x" * 248], "its 'groups' claim holds an entry that is not a group name of 1 to 247 "
     "characters"),
])
def test_a_groups_claim_of_the_wrong_shape_is_refused(groups: object, message: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        _principal({"email": "bob@example.com", "groups": groups})
    assert str(caught.value) == f"bearer token refused: {message}"
    assert "bob" not in str(caught.value)


def test_as_many_groups_as_allowed_are_accepted() -> None:
    groups = [f"g{i}" for i in range(MAX_GROUPS)]
    assert len(_principal({"email": "b@x", "groups": groups}).subjects) == MAX_GROUPS + 1


def test_an_api_token_principal_takes_only_valid_subjects() -> None:
    assert Principal.of(["serviceaccount:payments-dev/ci"]).actor == \
        "serviceaccount:payments-dev/ci"
    with pytest.raises(Unauthorized, match="names no valid subject"):
        Principal.of(["admin"])


def test_the_bootstrap_admin_has_no_subjects() -> None:
    admin = Principal.bootstrap_admin()
    assert admin.admin and admin.subjects == frozenset() and admin.actor == "admin"
