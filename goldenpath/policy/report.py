"""Guardrail results: what each guardrail covered and what it found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from goldenpath.errors import Violation
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.resolve import PlatformSpec


@dataclass
class Findings:
    """Accumulates one guardrail's coverage and violations while it runs."""

    guardrail: str
    covered: int = 0
    violations: list[Violation] = field(default_factory=list)

    def cover(self, count: int = 1) -> None:
        self.covered += count

    def fail(self, where: Resource | str, message: str) -> None:
        ref = where.ref if isinstance(where, Resource) else where
        self.violations.append(Violation(self.guardrail, ref, message))


Check = Callable[[PlatformSpec, Bundle, Findings], None]
#: Characters of an unexpected error's text a message may quote.
MESSAGE_MAX = 200


@dataclass(frozen=True)
class Guardrail:
    name: str
    description: str
    check: Check

    def run(self, spec: PlatformSpec, bundle: Bundle) -> GuardrailResult:
        findings = Findings(self.name)
        try:
            self.check(spec, bundle, findings)
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            # A guardrail reads objects as the schema describes them; one that is not (a
            # tampered Bundle) must fail the check, not end it with a traceback.
            findings.fail("Bundle", f"could not be checked, an object is malformed "
                          f"({type(e).__name__}: {str(e)[:MESSAGE_MAX]}); see the schema "
                          "guardrail")
        return GuardrailResult(
            self.name, self.description, findings.covered, tuple(findings.violations)
        )


@dataclass(frozen=True)
class GuardrailResult:
    name: str
    description: str
    covered: int
    violations: tuple[Violation, ...]

    @property
    def passed(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class Report:
    results: tuple[GuardrailResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def violations(self) -> list[Violation]:
        return [v for result in self.results for v in result.violations]
