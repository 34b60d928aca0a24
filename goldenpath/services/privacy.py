"""What a team's own checks and plans tell a non-admin about other teams: nothing that
names them, locates them or tells whether one exists.

A team's change is checked and planned against the whole platform (the rules across
files, the guardrails over every team), and those answers are written for admins: they
name the other team that holds a host, list every team (``allowFromTeams ... is not a
team (known: ...)``), sit in another team's file, or show another team's objects. For a
caller who is not a platform admin (the API's team owners), this module:

- **sets aside the peers a proposal adds** to ``spec.network.allowFromTeams``
  (:func:`without_added_peers`): they are neither checked nor planned, so a real team and
  an unknown name get the same answer. Adding a peer always needs an admin's approval
  (:mod:`goldenpath.services.access`), and the admin's check is where the name is
  checked. Peers the file lists already exist (the platform loads), and stay;
- **redacts errors** (:func:`redact`): an issue of the caller's own file that the
  platform alone decides (its :func:`~goldenpath.spec.crossref.team_issues`, the file's
  own validation) is kept word for word; an ``allowFromTeams`` issue keeps its place and
  value with a message that lists no team; every other issue (one in another team's file,
  or one naming another team: a taken ingress host, a namespace) becomes one
  :data:`CONFLICT` on the caller's file. A guardrail's violations are kept only for the
  caller's own namespaces and guardrails that look at one team; the others become one
  generic violation per guardrail;
- **filters plans** (:func:`own_plan`): the caller's objects and files only, with the
  count of the other changed files (``hidden``), never their names.

What a non-admin still learns is what the rules themselves say: that a host or a
namespace it asks for is someone else's (ingress hosts and namespaces are unique), and
how many files of others its change touches. Admins get everything as the loader,
render and guardrails write it. Pure: the callers run the checks, this module rewrites
their answers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from goldenpath.errors import PolicyViolation, SpecError, SpecIssue, Violation
from goldenpath.gitops import specfiles
from goldenpath.policy import GLOBAL
from goldenpath.services.gitops import Plan, Removals
from goldenpath.spec import PlatformSpec, crossref, parse_team
from goldenpath.spec.models import Platform, Team
from goldenpath.spec.resolve import namespace_name

PEERS = "spec.network.allowFromTeams"
#: the one issue that stands for every issue involving another team's spec
CONFLICT = ("conflicts with another team's spec (ingress hosts and namespaces are unique "
            "on the platform); only a platform admin sees which team and where")
NOT_A_TEAM = ("is not a team a platform admin can let in; ask the platform admins for "
              "the team's exact name")
NOT_PLANNED = ("is not planned: a team another team admits is checked (and rendered) when "
               "a platform admin approves the change, since only admins are told which "
               "teams exist")
#: guardrails whose findings are about several teams at once (totals, shared projects,
#: one object against another's)
CROSS_TEAM_GUARDRAILS = GLOBAL | {"unique-names"}
OTHERS_OBJECTS = ("the proposed spec breaks this guardrail together with other teams' or "
                  "the platform's objects; only a platform admin sees the details")


def _peers(document: dict[str, Any]) -> list[Any]:
    spec = document.get("spec")
    network = spec.get("network") if isinstance(spec, dict) else None
    listed = network.get("allowFromTeams") if isinstance(network, dict) else None
    return list(listed) if isinstance(listed, list) else []


def added_peers(document: dict[str, Any], current: Team | None) -> list[tuple[int, str]]:
    """(index, name) of each ``allowFromTeams`` entry of ``document`` that ``current``
    (the team's spec now; None for a new team) does not list."""
    listed = set(current.spec.network.allow_from_teams) if current is not None else set()
    return [(i, str(name)) for i, name in enumerate(_peers(document)) if name not in listed]


def without_added_peers(document: dict[str, Any], current: Team | None) -> dict[str, Any]:
    """``document`` with the peers :func:`added_peers` finds left out (a copy)."""
    added = {i for i, _ in added_peers(document, current)}
    if not added:
        return document
    kept = copy.deepcopy(document)
    kept["spec"]["network"]["allowFromTeams"] = [
        name for i, name in enumerate(_peers(document)) if i not in added]
    return kept


def not_planned(name: str, document: dict[str, Any], current: Team | None) -> list[str]:
    """The plan's note for each peer set aside (in the caller's own words: its file, the
    index and value it sent)."""
    file = specfiles.team_path(name)
    return [str(SpecIssue(file, f"{PEERS}[{i}]", NOT_PLANNED, peer, True))
            for i, peer in added_peers(document, current)]


# --- errors ------------------------------------------------------------------------------


def own_issues(platform: Platform, name: str, document: dict[str, Any]) -> set[str]:
    """The issues of team ``name``'s proposed file that the platform alone decides, as
    they are printed: its validation, or the cross-file rules that read no other team."""
    file = specfiles.team_path(name)
    try:
        team = parse_team(document, file)
    except SpecError as error:
        return {str(issue) for issue in error.issues}
    alone = PlatformSpec(platform)  # no other team: nothing of theirs can show
    return {str(issue) for issue in crossref.team_issues(alone, team, file)}


def redact_spec(error: SpecError, platform: Platform, name: str,
                document: dict[str, Any]) -> SpecError:
    """``error`` as a non-admin asking for team ``name`` may read it (see the module)."""
    file = specfiles.team_path(name)
    own = own_issues(platform, name, document)
    kept: list[SpecIssue] = []
    others = False
    for issue in error.issues:
        if str(issue) in own:
            kept.append(issue)
        elif issue.file == file and issue.path.startswith(f"{PEERS}["):
            kept.append(SpecIssue(file, issue.path, NOT_A_TEAM, issue.value, issue.has_value))
        else:
            others = True
    if others:
        kept.append(conflict(name))
    return SpecError(kept)


def conflict(name: str) -> SpecIssue:
    """The one issue that stands, on team ``name``'s file, for those naming others."""
    return SpecIssue(specfiles.team_path(name), "", CONFLICT)


def redact_policy(error: PolicyViolation, name: str,
                  document: dict[str, Any]) -> PolicyViolation:
    """Violations of team ``name`` (its objects in its own namespaces, or the team as a
    whole) by guardrails that look at one team, as they are; one generic violation per
    guardrail for the rest (other teams' objects, the platform's, cluster totals)."""
    spec = document.get("spec")
    envs = spec.get("environments") if isinstance(spec, dict) else None
    mine = {namespace_name(name, str(env)) for env in envs or []}
    kept: list[Violation] = []
    generic: list[str] = []
    for violation in error.violations:
        ref = violation.object_ref
        if violation.guardrail not in CROSS_TEAM_GUARDRAILS \
                and (ref == f"team {name}" or _namespace(ref) in mine):
            kept.append(violation)
        elif violation.guardrail not in generic:
            generic.append(violation.guardrail)
    kept += [Violation(guardrail, f"team {name}", OTHERS_OBJECTS) for guardrail in generic]
    return PolicyViolation(kept)


def _namespace(ref: str) -> str | None:
    """The namespace of a violation's object (``<cluster>/<Kind> <ns>/<name>``), if any."""
    _, _, where = ref.partition(" ")
    namespace, slash, _ = where.partition("/")
    return namespace if slash else None


@contextmanager
def redacted(platform: Platform, name: str, document: dict[str, Any]) -> Iterator[None]:
    """Run a check of team ``name``'s proposal ``document``; its SpecError or
    PolicyViolation leaves redacted."""
    try:
        yield
    except (SpecError, PolicyViolation) as error:
        raise redact(error, platform, name, document) from None


def redact(error: SpecError | PolicyViolation, platform: Platform, name: str,
           document: dict[str, Any]) -> SpecError | PolicyViolation:
    """``error`` of team ``name``'s proposal ``document``, as a non-admin may read it."""
    if isinstance(error, SpecError):
        return redact_spec(error, platform, name, document)
    return redact_policy(error, name, document)


# --- plans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnPlan:
    """A plan as its caller may see it, and how many changed files it does not show."""

    plan: Plan
    hidden: int = 0


def own_plan(plan: Plan, name: str) -> OwnPlan:
    """The objects and files of team ``name`` in ``plan``: its spec file, its unit's
    objects (in ``tenants/<team>/`` and its projects and applications in ``clusters/``)
    and its ``tenants/<team>/`` layout files; the warnings about its own services. Every
    other changed file is counted in ``hidden``, every other warning in one note. The
    ownership records (``.goldenpath/owned/``, which no plan diffs) count in neither:
    ``files`` is the number of files shown."""
    objects = [c for c in plan.objects if c.team == name]
    own = {specfiles.team_path(name), *(c.path for c in objects)}
    diffs = [d for d in plan.diffs if d.path in own or d.path.startswith(f"tenants/{name}/")]
    gone = {c.name for c in objects if c.action == "removed" and c.kind == "Namespace"}
    warnings = [w for w in plan.warnings if w.startswith(f"{name}/")]
    left = len(plan.warnings) - len(warnings)
    if left:
        warnings.append(f"{left} warning{'s' if left != 1 else ''} about the platform or "
                        "other teams' services not shown (a platform admin's plan shows "
                        "them)")
    removals = Removals(tuple(t for t in plan.removals.teams if t == name),
                        tuple(n for n in plan.removals.namespaces if n in gone),
                        tuple(n for n in plan.removals.protected if n in gone))
    shown = replace(plan, objects=objects, diffs=diffs, drift=[], files=len(diffs),
                    removals=removals, warnings=warnings)
    return OwnPlan(shown, len(plan.diffs) - len(diffs))
