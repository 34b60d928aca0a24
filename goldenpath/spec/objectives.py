"""The burn-rate policy SLOs are alerted on, and which objectives it can serve.

The windows and factors are the Google SRE workbook's ("Alerting on SLOs", table 5-8)
for a 30-day SLO period; :mod:`goldenpath.render.observability.slo` renders them. They
live in the spec layer because they bound what a spec may ask for: a clause fires when
the error ratio exceeds ``factor * (1 - objective)``, and an error ratio never exceeds 1,
so an objective whose budget times the largest factor reaches 1 has a page that can never
fire (a 90 % objective would page only after hours, 50 % never). Such objectives are
refused rather than served with silently weaker factors. Arithmetic is Decimal, so the
limit is exact: ``100 * (1 - 1/14.4)`` = 93.0555...
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_UP, Decimal


@dataclass(frozen=True)
class BurnWindow:
    """Fire when the error ratio over both windows exceeds ``factor`` x the budget."""

    long: str
    short: str
    factor: Decimal


@dataclass(frozen=True)
class BurnPolicy:
    severity: str
    windows: tuple[BurnWindow, ...]


#: Page: 2 % of the budget gone in 1 hour, or 5 % in 6 hours.
PAGE = BurnPolicy("page", (BurnWindow("1h", "5m", Decimal("14.4")),
                           BurnWindow("6h", "30m", Decimal(6))))
#: Ticket: 10 % of the budget gone in 1 day, or 10 % in 3 days.
TICKET = BurnPolicy("ticket", (BurnWindow("1d", "2h", Decimal(3)),
                               BurnWindow("3d", "6h", Decimal(1))))
POLICIES = (PAGE, TICKET)


def error_budget(objective: Decimal | str) -> Decimal:
    """The allowed error ratio of an objective in percent: 99.9 -> 0.001."""
    return 1 - Decimal(objective) / 100


def burn_threshold(objective: Decimal | str, factor: Decimal) -> Decimal:
    return factor * error_budget(objective)


def _fastest() -> tuple[BurnPolicy, BurnWindow]:
    return max(((p, w) for p in POLICIES for w in p.windows), key=lambda pw: pw[1].factor)


def _percent(ratio: Decimal) -> str:
    return format((ratio * 100).normalize(), "f")


#: The lowest availability objective every clause can fire for, rounded up to the
#: 4 decimals an error message shows (the exact limit is not a finite decimal).
AVAILABILITY_FLOOR = (100 * (1 - 1 / _fastest()[1].factor)).quantize(Decimal("0.0001"),
                                                                      rounding=ROUND_UP)


def unservable(objective: Decimal | str) -> str | None:
    """Why the burn-rate policy cannot serve ``objective`` (a percentage), or None."""
    policy, window = _fastest()
    needed = burn_threshold(objective, window.factor)
    if needed < 1:
        return None
    return (f"leaves an error budget of {_percent(error_budget(objective))} %, so the "
            f"{policy.severity} alert (a {window.factor}x burn of the budget over "
            f"{window.long}) would fire only above {_percent(needed)} % failed requests, "
            f"which cannot happen; availability objectives must be above {AVAILABILITY_FLOOR}")
