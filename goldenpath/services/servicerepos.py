"""Where a service repository lags the spec: warnings for ``plan`` and ``validate``.

The spec moves first (a team gains an environment, a service gains a latency SLO) and the
service repository follows only when someone runs ``update-service`` and merges its
branch. Until then an Argo CD Application may point at ``deploy/overlays/<env>`` that the
repository lacks (Argo CD cannot sync it), or a latency SLO may read the histogram bucket
at ``latencyP99Ms`` that the service does not export (its SLI is empty, it never fires).
Both are said as warnings, naming the command that fixes them.

Which repository is read follows where ``new-service`` puts them: the embedded bare
repository under the state directory (``GOLDENPATH_SERVICE_REPOS=embedded``), or
``serviceRepos.urlTemplate``, the Applications' ``repoURL`` (``platform``), at the
Applications' ``targetRevision``. A
repository that cannot be read never fails the command: it is listed as not checked.
What is read is the tenant's (see :mod:`goldenpath.scaffold.readback`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from goldenpath.errors import GitError
from goldenpath.render import metrics
from goldenpath.render.bundle import Resource
from goldenpath.scaffold.readback import OVERLAYS, ServiceRepo, read_service_repo
from goldenpath.services.scaffold import repository_target
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec
from goldenpath.spec.models import ServiceSpec

#: how many unreadable repositories the "not checked" note names before "and N more"
_LISTED = 5
#: at most this many repositories are read per command, so a first plan of a large
#: platform with remote repositories stays bounded; the rest are listed as not checked
MAX_REPOSITORIES = 200


@dataclass
class _Service:
    """A service's Applications: the repository and revision they sync, and the overlay
    (environment) each one points at."""

    team: str
    name: str
    revision: str
    apps: dict[str, str] = field(default_factory=dict)  # environment -> Application name

    @property
    def ref(self) -> str:
        return f"{self.team}/{self.name}"

    @property
    def fix(self) -> str:
        return (f"run `goldenpath update-service --team {self.team} --name {self.name}` "
                "and merge its branch")


def service_repo_warnings(spec: PlatformSpec, settings: Settings,
                          applications: Iterable[Resource]) -> list[str]:
    """Warnings for the services whose Applications are given (others are ignored)."""
    warnings: list[str] = []
    unread: list[str] = []
    services = _services(applications)
    for service in services[:MAX_REPOSITORIES]:
        try:
            repo = _read(spec, settings, service)
        except GitError as err:
            unread.append(f"{service.ref} ({err})")
            continue
        warnings += _overlays(service, repo)
        warnings += _latency(_spec_of(spec, service), service, repo)
    unread += [f"{service.ref} (over {MAX_REPOSITORIES} repositories in one run)"
               for service in services[MAX_REPOSITORIES:]]
    if unread:
        more = len(unread) - _LISTED
        listed = "; ".join(unread[:_LISTED]) + (f"; and {more} more" if more > 0 else "")
        warnings.append(f"service repositories not checked (goldenpath cannot read them): "
                        f"{listed}")
    return warnings


def _services(applications: Iterable[Resource]) -> list[_Service]:
    found: dict[tuple[str, str], _Service] = {}
    for app in applications:
        c = app.coords
        if app.kind != "Application" or c.team is None or c.service is None:
            continue
        source = app.body["spec"]["source"]
        if c.environment is None or source.get("path") != f"{OVERLAYS}/{c.environment}":
            continue
        key = (c.team, c.service)
        service = found.setdefault(key, _Service(c.team, c.service, source["targetRevision"]))
        service.apps[c.environment] = app.name
    return [found[key] for key in sorted(found)]


def _read(spec: PlatformSpec, settings: Settings, service: _Service) -> ServiceRepo:
    """The service's repository where new-service puts it; GitError if unreadable."""
    target = repository_target(settings, spec, service.team, service.name)
    environments = sorted(service.apps)
    if target.bare is None:
        return read_service_repo(target.url, service.revision, environments)
    if not (target.bare / "HEAD").is_file():
        raise GitError(f"not made by new-service here: no {target.bare}")
    return read_service_repo(target.bare, service.revision, environments)


def _spec_of(spec: PlatformSpec, service: _Service) -> ServiceSpec | None:
    team = spec.team(service.team)
    return next((s for s in team.spec.services if s.name == service.name), None)


def _overlays(service: _Service, repo: ServiceRepo) -> list[str]:
    return [f"{service.ref}: Application {app} would sync {OVERLAYS}/{env}, which the "
            f"service repository does not have at {service.revision}: {service.fix}"
            for env, app in sorted(service.apps.items()) if env not in repo.overlays]


def _latency(spec: ServiceSpec | None, service: _Service, repo: ServiceRepo) -> list[str]:
    """The latency SLO reads the bucket at exactly its threshold; a golden-path service
    exports the buckets its recorded inputs gave it (:func:`metrics.buckets_for`)."""
    threshold = spec.slo.latency_p99_ms if spec and spec.slo else None
    if threshold is None:
        return []
    bucket = f'le="{metrics.le_value(threshold)}"'
    if repo.record is None:
        if metrics.latency_bucket(threshold) in metrics.DEFAULT_BUCKETS:
            return []
        return [f"{service.ref}: the latency SLO reads the {bucket} bucket, not one of the "
                f"default buckets, and whether the service exports it cannot be told "
                f"({repo.record_problem}); a service that does not export it never alerts"]
    slo = repo.record.inputs.service.slo
    exported = metrics.buckets_for(slo.latency_p99_ms if slo else None)
    if metrics.latency_bucket(threshold) in exported:
        return []
    return [f"{service.ref}: the latency SLO (latencyP99Ms {threshold}) reads the {bucket} "
            "bucket, which the service does not export (it was rendered without that "
            f"threshold), so the SLO cannot fire: {service.fix}"]
