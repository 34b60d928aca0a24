"""Constrained scalar types shared by the spec models.

Each type checks one rule and says which, so a loader error reads
``spec.quota.cpu: "lots": is not a Kubernetes quantity``.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from goldenpath.spec.objectives import unservable
from goldenpath.spec.quantity import SYNTAX, QuantityError, parse_quantity
from goldenpath.spec.reach import canonical

DNS_LABEL_MAX = 63
# Every pattern is used with fullmatch: "$" also matches before a trailing newline, so
# re.match("^[a-z]+$", "payments\n") succeeds.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_PRINCIPAL = re.compile(r"[^\s:,]+")
_PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,9})?", re.ASCII)
#: the longest CIDR text: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" is 49
CIDR_MAX = 64
SUBJECT_MAX = 253


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def is_dns_label(value: str) -> bool:
    return len(value) <= DNS_LABEL_MAX and _DNS_LABEL.fullmatch(value) is not None


def _dns_label(value: str) -> str:
    if not is_dns_label(value):
        raise _fail(
            "dns_label",
            "is not a DNS-1123 label (lower-case letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)",
        )
    return value


def _dns_subdomain(value: str) -> str:
    if len(value) > 253 or _DNS_SUBDOMAIN.fullmatch(value) is None:
        raise _fail("dns_subdomain", "is not a DNS-1123 subdomain (for example web.example.com)")
    return value


def _label_value(value: str) -> str:
    if len(value) > DNS_LABEL_MAX or _LABEL_VALUE.fullmatch(value) is None:
        raise _fail(
            "label_value",
            "is not a valid Kubernetes label value (at most 63 characters of letters, "
            "digits, '-', '_' and '.', starting and ending with a letter or digit)",
        )
    return value


def _quantity(value: Any) -> str:
    try:
        amount = parse_quantity(value)
    except QuantityError as err:
        example = " (for example 500m, 2, 8Gi)" if err.rule == SYNTAX else ""
        raise _fail("quantity", err.rule + example) from None
    if amount <= 0:
        raise _fail("quantity_positive", "must be greater than zero")
    return str(value).strip(" ")


def _subject(value: str) -> str:
    if len(value) > SUBJECT_MAX:
        raise _fail("subject", f"is longer than {SUBJECT_MAX} characters")
    kind, sep, rest = value.partition(":")
    if sep and kind in ("user", "group") and _PRINCIPAL.fullmatch(rest) \
            and rest.isprintable():
        return value
    if sep and kind == "serviceaccount":
        namespace, slash, name = rest.partition("/")
        if slash and is_dns_label(namespace) and _dns_subdomain_ok(name):
            return value
    raise _fail(
        "subject",
        "is not a subject: use user:<name>, group:<name> or serviceaccount:<namespace>/<name>",
    )


def _dns_subdomain_ok(value: str) -> bool:
    return len(value) <= 253 and _DNS_SUBDOMAIN.fullmatch(value) is not None


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network ``value`` names, an IPv4-mapped one as IPv4 (so a rendered ipBlock
    says what it reaches), or a ``cidr`` error."""
    if len(value) > CIDR_MAX:
        raise _fail("cidr", f"is longer than {CIDR_MAX} characters; not a CIDR")
    try:
        if "%" in value:  # an IPv6 zone: Kubernetes refuses it, and it hides the address
            raise ValueError(value)
        return canonical(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise _fail(
            "cidr", "is not a CIDR with its host bits zero (for example 10.20.0.0/16)"
        ) from None


def _cidr(value: str) -> str:
    network = _network(value)
    if network.prefixlen == 0:
        raise _fail(
            "cidr_open",
            "opens egress to every address, including other tenants and the API server; "
            "name the networks the team needs",
        )
    return str(network)


def _any_cidr(value: str) -> str:
    return str(_network(value))


def _percent(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _fail("percent", 'is not a percentage such as "99.9"')
    text = str(value)
    # ASCII digits only: Decimal() also reads Arabic-Indic and fullwidth digits and
    # "9_9.9", none of which is a percentage anyone else reads
    if _PERCENT.fullmatch(text) is None:
        raise _fail("percent", 'is not a percentage such as "99.9"')
    if not Decimal(0) < Decimal(text) < Decimal(100):
        raise _fail("percent_range", "must be a percentage strictly between 0 and 100")
    return text


def _servable(value: str) -> str:
    """An availability objective the burn-rate alerts can page on (see objectives)."""
    reason = unservable(value)
    if reason is not None:
        raise _fail("objective_unservable", reason)
    return value


def _matching(pattern: str, kind: str, what: str) -> Any:
    """A string type that ``pattern`` must match as a whole (no anchors needed); the
    error says what was expected, not the regular expression."""
    compiled = re.compile(pattern)

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _fail(kind, f"must be a quoted string: {what}")
        if compiled.fullmatch(value) is None:
            raise _fail(kind, f"is not {what}")
        return value

    return BeforeValidator(check)


DNSLabel = Annotated[str, AfterValidator(_dns_label)]
DNSSubdomain = Annotated[str, AfterValidator(_dns_subdomain)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
Quantity = Annotated[str, BeforeValidator(_quantity)]
Subject = Annotated[str, AfterValidator(_subject)]
CIDR = Annotated[str, AfterValidator(_cidr)]
#: A CIDR an admin writes in platform.yaml: ``0.0.0.0/0`` is allowed there.
AnyCIDR = Annotated[str, AfterValidator(_any_cidr)]
Percent = Annotated[str, BeforeValidator(_percent)]
AvailabilityObjective = Annotated[Percent, AfterValidator(_servable)]
KubernetesVersion = Annotated[
    str,
    _matching(r"1\.[0-9]{1,2}", "kubernetes_version", 'a Kubernetes minor version such as "1.31"'),
]
HttpsURL = Annotated[str, _matching(r"https://\S+", "https_url", "an https:// URL")]
SlackChannel = Annotated[
    str,
    _matching(
        r"#[a-z0-9][a-z0-9._-]{0,79}",
        "slack_channel",
        'a Slack channel such as "#team-alerts" (lower-case, starting with #)',
    ),
]
SecretKey = Annotated[
    str,
    _matching(
        r"[-._a-zA-Z0-9]+", "secret_key", "a Secret data key (letters, digits, '-', '_' and '.')"
    ),
]
RunbookURL = Annotated[
    str,
    _matching(r"https?://\S*[^/\s]", "runbook_url",
              "an http(s):// URL without a trailing slash"),
]
ByteSize = Annotated[
    str,
    _matching(r"0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B", "byte_size",
              "a Prometheus byte size such as 64MB or 512KiB"),
]
