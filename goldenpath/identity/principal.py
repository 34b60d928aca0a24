"""Who is calling: a :class:`Principal`, and how a verified token's claims become one.

A Principal is the set of spec subjects the caller *is* (``user:<name>``,
``group:<name>``; ``serviceaccount:<namespace>/<name>`` only from a token an admin minted
for it), plus ``admin`` for the bootstrap admin token. Authorization
(:mod:`goldenpath.services.access`) compares these strings with the subjects the specs
list, by equality and nothing else, so the mapping here is the whole of what a token can
claim to be.

Claims are tenant-controlled in the sense that matters: whoever runs the issuer, or can
edit their own profile there, chooses them. They are read as data and bounded: the user
claim must be a string that makes a valid subject; the groups claim must be a list of at
most :data:`MAX_GROUPS` strings of at most :data:`MAX_CLAIM_CHARS` characters, else the
token is refused. A group whose name no spec could list (whitespace, ``:`` or ``,`` in
it) is left out: it can match nothing, and refusing the token would lock out every user
of an issuer that has one such group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from goldenpath.errors import Unauthorized
from goldenpath.spec.types import SUBJECT_MAX, Subject

#: the most groups one token may carry; issuers that emit more (Entra ID switches to an
#: overage claim past 200) are better served by a filtered groups claim
MAX_GROUPS = 256
#: the longest user or group name: the longest subject less its ``group:`` prefix
MAX_CLAIM_CHARS = SUBJECT_MAX - len("group:")
#: the claim a token names its user by when it lacks the configured user claim
FALLBACK_USER_CLAIM = "sub"

_SUBJECT: TypeAdapter[str] = TypeAdapter(Subject)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``subjects`` are spec subjects; ``admin`` is True only
    for the bootstrap admin token (platform admins named in ``spec.admins`` are found by
    their subjects, see :mod:`goldenpath.services.access`). ``actor`` is what audit
    entries and commit trailers record."""

    subjects: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    actor: str = ""

    def __post_init__(self) -> None:
        if not self.actor:
            object.__setattr__(self, "actor", "admin" if self.admin else _actor(self.subjects))

    @classmethod
    def bootstrap_admin(cls) -> Principal:
        return cls(admin=True, actor="admin")

    @classmethod
    def of(cls, subjects: Iterable[str], *, actor: str = "") -> Principal:
        """A principal from subject strings, each checked to be a spec subject (an API
        token's subject, read back from the store)."""
        checked = frozenset(subjects)
        for subject in checked:
            if not is_subject(subject):
                raise Unauthorized("bearer token refused: it names no valid subject")
        return cls(subjects=checked, actor=actor)


def _actor(subjects: frozenset[str]) -> str:
    users = sorted(s for s in subjects if not s.startswith("group:"))
    return (users or sorted(subjects) or [""])[0]


def is_subject(value: str) -> bool:
    try:
        _SUBJECT.validate_python(value)
    except ValidationError:
        return False
    return True


def principal_from_claims(claims: Mapping[str, Any], *, user_claim: str,
                          groups_claim: str) -> Principal:
    """The principal a verified token's claims name: ``user:<user claim>`` (``sub`` when
    the token lacks the user claim) and ``group:<g>`` for each entry of the groups claim.

    Raises Unauthorized, with a message naming the claim but none of its value, when the
    claims are not usable (see the module docstring).
    """
    user = _user(claims, user_claim)
    groups = _groups(claims.get(groups_claim), groups_claim)
    return Principal(subjects=frozenset({user, *groups}), actor=user)


def _user(claims: Mapping[str, Any], user_claim: str) -> str:
    name = user_claim if claims.get(user_claim) is not None else FALLBACK_USER_CLAIM
    value = claims.get(name)
    if name == "email" and claims.get("email_verified") is False:
        # an issuer that lets anyone set an address it has not verified would let them
        # take the name of whoever owns it
        raise Unauthorized("bearer token refused: its email claim is not verified "
                           "(email_verified is false)")
    if not isinstance(value, str) or not value:
        raise Unauthorized(f"bearer token refused: it names no user (claim {name!r} "
                           f"{'is missing' if value is None else 'is not a string'})")
    subject = f"user:{value}"
    if len(value) > MAX_CLAIM_CHARS or not is_subject(subject):
        raise Unauthorized(f"bearer token refused: its {name!r} claim is not a user name a "
                           f"spec can list (at most {MAX_CLAIM_CHARS} characters, no "
                           "whitespace, ':' or ',')")
    return subject


def _groups(value: object, claim: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Unauthorized(f"bearer token refused: its {claim!r} claim is not a list of "
                           "group names")
    if len(value) > MAX_GROUPS:
        raise Unauthorized(f"bearer token refused: its {claim!r} claim lists more than "
                           f"{MAX_GROUPS} groups")
    groups = []
    for entry in value:
        if not isinstance(entry, str) or not entry or len(entry) > MAX_CLAIM_CHARS:
            raise Unauthorized(f"bearer token refused: its {claim!r} claim holds an entry "
                               f"that is not a group name of 1 to {MAX_CLAIM_CHARS} "
                               "characters")
        if is_subject(f"group:{entry}"):
            groups.append(f"group:{entry}")
    return groups
