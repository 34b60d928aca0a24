"""Kubernetes resource quantities, parsed rather than pattern-matched.

The grammar is the one of k8s.io/apimachinery ``resource.Quantity``: a signed decimal
number followed by a binary suffix (Ki, Mi, ... Ei), a decimal suffix (n, u, m, k, M, G,
T, P, E) or a decimal exponent (``1e3``). Values are exact ``Decimal`` so sums of many team
quotas never drift.

The text is untrusted and bounded: ASCII digits only (``\\d`` and ``Decimal()`` would read
Arabic-Indic or fullwidth digits too), at most :data:`MAX_CHARS` characters, and no value beyond
what a Kubernetes quantity can hold (2^63-1, :data:`MAX_QUANTITY`). Every refusal is a
:class:`QuantityError` that says which rule the text broke.
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
    r"(?P<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?",
    re.ASCII,
)
#: Kubernetes caps every quantity at 2^63-1 (apimachinery ``resource.Quantity``).
MAX_QUANTITY = Decimal(2**63 - 1)
MAX_CHARS = 64
#: Exponents beyond this are refused before computing 10**exponent (a Decimal overflow).
_MAX_EXPONENT = 100
SYNTAX = "is not a Kubernetes quantity"
_TOO_LARGE = "is larger than a Kubernetes quantity can be (at most 2^63-1, about 8Ei)"


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity; ``rule`` says why."""

    def __init__(self, text: object, rule: str = SYNTAX) -> None:
        super().__init__(f"{_shown(text)} {rule}")
        self.rule = rule


def _shown(text: object) -> str:
    """``text`` for a message, never built from more than MAX_CHARS of it."""
    if isinstance(text, str) and len(text) > MAX_CHARS:
        return repr(text[:MAX_CHARS]) + "..."
    if isinstance(text, int) and not isinstance(text, bool) and text.bit_length() > 200:
        return f"a {text.bit_length()}-bit integer"  # str() of it may take long or fail
    return repr(text)


def parse_quantity(text: str | int | float) -> Decimal:
    """Return the exact value of a quantity such as ``500m``, ``8Gi``, ``1.5`` or ``1e3``."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise QuantityError(text)
    if isinstance(text, int) and abs(text) > MAX_QUANTITY:
        raise QuantityError(text, _TOO_LARGE)  # before str(): a huge int takes long to print
    return _parse_text(str(text))


#: Quotas repeat a handful of values across every team and environment, and the
#: cross-file checks and the capacity guardrail parse all of them on every apply.
@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Decimal:
    if len(text) > MAX_CHARS:
        raise QuantityError(text, f"is longer than {MAX_CHARS} characters; "
                                  f"{SYNTAX.removeprefix('is ')}")
    if not text.isascii():
        raise QuantityError(text, f"{SYNTAX}: write it with ASCII digits 0-9")
    match = _QUANTITY.fullmatch(text.strip(" "))
    if match is None:
        raise QuantityError(text)
    try:
        number = Decimal(match["number"])
    except InvalidOperation as err:  # pragma: no cover - the regex admits only decimals
        raise QuantityError(text) from err
    value = number * _scale(text, match["suffix"] or "")
    if abs(value) > MAX_QUANTITY:
        raise QuantityError(text, _TOO_LARGE)
    return value


def _scale(text: str, suffix: str) -> Decimal:
    if suffix in _BINARY:
        return Decimal(_BINARY[suffix])
    if suffix in _DECIMAL:
        return _DECIMAL[suffix]
    exponent = int(suffix[1:])  # at most MAX_CHARS digits: cheap
    if exponent > _MAX_EXPONENT:
        raise QuantityError(text, _TOO_LARGE)
    if exponent < -_MAX_EXPONENT:
        raise QuantityError(text, "is smaller than a Kubernetes quantity can be (1n)")
    return Decimal(10) ** exponent


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
