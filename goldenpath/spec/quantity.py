"""Kubernetes resource quantities, parsed rather than pattern-matched.

The grammar is the one of k8s.io/apimachinery ``resource.Quantity``: a signed decimal
number followed by a binary suffix (Ki, Mi, ... Ei), a decimal suffix (n, u, m, k, M, G,
T, P, E) or a decimal exponent (``1e3``). Values are exact ``Decimal`` so sums of many team
quotas never drift.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity."""


def parse_quantity(text: str | int | float) -> Decimal:
    """Return the exact value of a quantity such as ``500m``, ``8Gi``, ``1.5`` or ``1e3``."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
    return _parse_text(str(text))


#: Quotas repeat a handful of values across every team and environment, and the
#: cross-file checks and the capacity guardrail parse all of them on every apply.
@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Decimal:
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
    try:
        number = Decimal(match["number"])
    except InvalidOperation as err:  # pragma: no cover - the regex admits only decimals
        raise QuantityError(f"{text!r} is not a Kubernetes quantity") from err
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:]))


def format_cpu(value: Decimal) -> str:
    """Render a CPU amount in the shortest exact form (``2``, ``1500m``)."""
    if value == value.to_integral_value():
        return str(int(value))
    millis = value * 1000
    if millis == millis.to_integral_value():
        return f"{int(millis)}m"
    return format(value.normalize(), "f")


def format_bytes(value: Decimal) -> str:
    """Render a byte amount with the largest exact binary suffix (``64Gi``, ``1536Mi``)."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        scaled = value / _BINARY[suffix]
        if scaled == scaled.to_integral_value() and scaled != 0:
            return f"{int(scaled)}{suffix}"
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")
