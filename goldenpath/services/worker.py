"""The worker: claims queued requests from the store and does them, each exactly once.

It claims only the kinds it has a handler for, in the payload formats those handlers
read (:data:`FORMATS`), and records its release on each row it claims (:func:`release`):
during a rolling update, a request a newer replica submitted in a kind or format this
version does not know waits for a newer worker rather than failing here.

One :class:`Worker` runs in a thread (the API starts them in its lifespan) or a process of
its own; any number of them, in any number of replicas, share the store's queue. For
each claim it:

1. keeps the lease alive from a heartbeat thread (every third of the lease), so a slow
   scaffold is not claimed again while its worker lives;
2. runs the handler of the request's kind (:data:`HANDLERS`), which logs to the request
   and marks each step done in the store (``record_step``), so a request claimed again
   after its worker died skips what was done and finishes what was begun. Team changes
   are claimed together, every queued one up to :attr:`Worker.batch`, and made by one
   call (:data:`BATCHES`): one commit per request, one push for them all, so fifty
   owners changing fifty teams at once wait for one push, not fifty applies in a row;
3. completes the request with the claim's fencing token, succeeded or failed, and
   audits the outcome. A worker that lost its claim (its lease expired and another
   worker took the request) cannot complete it: it logs that and moves on.

A handler's GoldenpathError fails the request with its message, except when a server
the request needs is down (:data:`TRANSIENT`: the git remote cannot be reached, the
database is unavailable, a disk it writes to is full) or its push lost the race to
other writers at every attempt (replicas pushing to the same branch under load): nothing
is wrong with the request, so it is given back to the queue (``Queue.retry_later``) to be
tried again after a backoff that doubles at each retry (:attr:`Worker.retry`, capped at
:attr:`Worker.retry_max`), with a log line saying why and when; it is retried for as long
as the outage (or the contention) lasts (retries do not count toward abandonment) and
completes once the server is back. A batch whose push or fetch found the remote down, or
whose push lost every race, is given back whole. Anything else is a bug: the request fails with
"internal error" and the traceback goes to the process log, never to the caller. Either
way the worker keeps running; when the store itself is down the claims it holds are left
to their leases and taken again once it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from goldenpath import __version__
from goldenpath.errors import (
    Conflict,
    DiskFull,
    GoldenpathError,
    RemoteUnavailable,
    StoreUnavailable,
)
from goldenpath.gitops.repo import PushRejected
from goldenpath.services import scaffold, servicerequests, teamrequests, teams
from goldenpath.services.requests import SERVICE_CREATE
from goldenpath.services.teams import Where
from goldenpath.settings import Settings
from goldenpath.store import Claim, Request, Store, migrate
from goldenpath.store.records import LogLevel

log = logging.getLogger(__name__)
_INTERNAL = "internal error; the operators have the details in the server log"

#: Errors that say nothing is wrong with the request: a server it needs is down (or a
#: disk it writes to is full), or other writers (replicas, pipelines) pushed first at every
#: one of the writer's attempts.
TRANSIENT = (RemoteUnavailable, StoreUnavailable, DiskFull, PushRejected)

STARTED = "scaffold started"
CREATED = "service created"
COMMITTED = "team change committed"


@dataclass
class Job:
    """One claimed request as its handler sees it."""

    settings: Settings
    store: Store
    claim: Claim

    @property
    def request(self) -> Request:
        return self.claim.request

    def log(self, message: str, *, level: LogLevel = "info") -> None:
        log_each([(self, message)], level=level)


def log_each(lines: list[tuple[Job, str]], *, level: LogLevel = "info") -> None:
    """A line in each job's request log, all in one store transaction (a batch's jobs
    log alike: one commit for fifty lines, not fifty), and in the process log."""
    if not lines:
        return
    lines[0][0].store.requests.append_logs([(job.request.id, message, level)
                                            for job, message in lines])
    for job, message in lines:
        log.log(logging.getLevelName(level.upper()), message,
                extra={"request_id": job.request.id})


Handler = Callable[[Job], Any]
#: kind -> (metric name, seconds) observer; the API counts scaffold durations with it
Observer = Callable[[str, str, float], None]


def create_service(job: Job) -> Any:
    """``service.create``: scaffold the repository, push it, list it in the team spec
    (the control repository's, by one commit: see
    :mod:`goldenpath.services.servicerequests`, which also authorizes the requester
    again)."""
    rid, payload = job.request.id, job.request.payload
    done = job.store.requests.step_done(rid, CREATED)
    if done is not None:
        job.log("the service was created by an earlier attempt")
        return done.result
    args = (job.settings, job.request.team, payload["name"], payload["template"],
            dict(payload.get("parameters") or {}))
    specs = servicerequests.team_specs(job.request, job.settings)
    made = None
    if job.store.requests.step_done(rid, STARTED) is not None:
        job.log("an earlier attempt stopped part way; resuming it", level="warning")
        made = scaffold.resume_new_service(*args, specs=specs)
    if made is None:
        job.store.requests.record_step(rid, STARTED)
        job.log(f"rendering {payload['template']} for {job.request.team}/{payload['name']}")
        made = scaffold.new_service(*args, specs=specs)
    result = {"team": made.team, "service": made.service, "template": made.template,
              "version": made.version, "repository": made.repository, "commit": made.commit,
              "specCommit": made.spec_commit}
    job.store.requests.record_step(rid, CREATED, result)
    job.log(f"pushed {made.commit[:12]} to {made.repository}")
    job.log(f"listed in {made.spec_file}" + (f" by commit {made.spec_commit[:12]}"
                                              if made.spec_commit else ""))
    return result


def change_teams(jobs: list[Job]) -> list[Any | GoldenpathError]:
    """``team.create``/``team.update``/``team.delete``, every claimed one together: one
    commit each (the spec and its objects, requested by the request's actor under its
    id), built one on the other and pushed at once (see
    :func:`goldenpath.services.teamrequests.execute_all`), so concurrent changes to
    different teams cost one push, not one full apply each. Each is done once: a
    re-claimed request finds its step recorded, or (its worker died after the push,
    before the record) the repository already holding the change, which commits nothing
    again."""
    outcomes: dict[int, Any | GoldenpathError] = {}
    todo: list[int] = []
    lines: list[tuple[Job, str]] = []
    for n, job in enumerate(jobs):
        done = job.store.requests.step_done(job.request.id, COMMITTED)
        if done is not None:
            lines.append((job, "the change was committed by an earlier attempt"))
            outcomes[n] = done.result
        else:
            lines.append((job, f"{job.request.kind} {job.request.team}: editing the spec "
                               f"in the control repository (one of {len(jobs)} changes "
                               "pushed together)"))
            todo.append(n)
    log_each(lines)
    if todo:
        where = Where(settings=jobs[0].settings)
        _snapshot_head(where)
        made = teamrequests.execute_all([jobs[n].request for n in todo], where)
        lines = []
        for n, result in zip(todo, made, strict=True):
            outcomes[n] = result
            if not isinstance(result, GoldenpathError):
                lines.append((jobs[n], _committed(jobs[n], result)))
        log_each(lines)
    return [outcomes[n] for n in range(len(jobs))]


def _snapshot_head(where: Where) -> None:
    """Bring this process's snapshot of the branch up to its head before the writer
    starts from it (:func:`goldenpath.services.teams.current_platform`: built from the
    last one, parsing only the team files changed since). The writer starts from a kept
    snapshot of the head and checks out and loads only the changed teams; without one it
    loads every team (seconds at 1,000 teams), which every batch after the previous
    one's push would do, since that push moved the head past the snapshot the
    submission checks built."""
    with suppress(GoldenpathError):  # the writer then loads, and says what fails, itself
        teams.current_platform(where)


def _committed(job: Job, result: dict[str, Any]) -> str:
    """Record the request's change as made (a claim of it again skips it); what to log."""
    job.store.requests.record_step(job.request.id, COMMITTED, result)
    commit = result.get("commit")
    return f"committed {commit[:12]}" if commit else "nothing to commit: the repository " \
        "holds this change already"


@dataclass(frozen=True)
class _Retry:
    """A handler's outcome that gives the request back to the queue to retry it."""

    error: GoldenpathError


#: Requests of these kinds are claimed together (up to :attr:`Worker.batch`) and done
#: by one call; each outcome is the request's result or the error that failed it.
BatchHandler = Callable[[list[Job]], list[Any | GoldenpathError]]

HANDLERS: dict[str, Handler] = {SERVICE_CREATE: create_service}
BATCHES: dict[str, BatchHandler] = {kind: change_teams for kind in teamrequests.KINDS}
#: The newest payload format (``payload_version``) this version's handler of a kind
#: reads, for the kinds past format 1. Submitting a kind in a new format means adding
#: it here in the same release: older replicas, which do not read it, leave it queued.
FORMATS: dict[str, int] = {}


def release() -> str:
    """This version as the rows it claims record it (``claimed_by_version``): the
    package version and the schema head, so two builds of one version number that
    differ in schema are told apart."""
    return f"{__version__}+schema.{migrate.head()}"


@dataclass
class Worker:
    settings: Settings
    store: Store
    name: str
    lease: timedelta = timedelta(seconds=60)
    #: the first retry's delay when a server a request needs is down; doubled per retry
    retry: timedelta = timedelta(seconds=5)
    retry_max: timedelta = timedelta(minutes=5)
    poll_seconds: float = 0.2
    handlers: dict[str, Handler] = field(default_factory=lambda: dict(HANDLERS))
    batches: dict[str, BatchHandler] = field(default_factory=lambda: dict(BATCHES))
    #: kind -> the newest payload format its handler reads (1 for a kind not named)
    formats: dict[str, int] = field(default_factory=lambda: dict(FORMATS))
    #: recorded on every row this worker claims
    version: str = field(default_factory=release)
    #: the most requests of the batched kinds claimed at once
    batch: int = 50
    observe: Observer | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    #: set when the store queues work in this process, or on :meth:`stop`
    _woken: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def run(self) -> None:
        """Claim and do requests until :meth:`stop`. Idle, it claims again as soon as its
        store queues a request in this process (:mod:`goldenpath.store.notify`), and every
        :attr:`poll_seconds` for the requests other processes queue; a store outage
        waits :attr:`retry` between tries (one log line each, not one per poll)."""
        with self.store.notifier.watching_queue(self._woken.set):
            while not self.stopping.is_set():
                self._woken.clear()  # before the claim: a request queued after it wakes us
                wait = self.poll_seconds
                try:
                    worked = self.run_once()
                except GoldenpathError as err:  # the database is down: wait, do not spin
                    log.warning("worker %s: %s; trying again in %gs", self.name, err,
                                max(wait, self.retry.total_seconds()))
                    worked, wait = False, max(wait, self.retry.total_seconds())
                except Exception:  # a bug must not silently end the API's only worker
                    log.exception("worker %s: internal error; going on", self.name)
                    worked = False
                if not worked:
                    self._woken.wait(wait)

    def stop(self) -> None:
        self.stopping.set()
        self._woken.set()

    def run_once(self) -> bool:
        """Claim what is queued and do it: every request of a batched kind at once (up to
        :attr:`batch`), then one of another kind; False when none was queued. Only the
        kinds this worker handles, in the formats it reads, are claimed: during a
        rolling update, work a newer version submitted in a format this one does not
        know waits for a newer worker instead of failing here."""
        together = self._claim(self.batches, limit=self.batch)
        if together:
            self.execute_batch(together)
        alone = self._claim({k: h for k, h in self.handlers.items() if k not in self.batches},
                            limit=1)
        for claim in alone:
            self.execute(claim)
        return bool(together or alone)

    def _claim(self, kinds: dict[str, Any], *, limit: int) -> list[Claim]:
        if not kinds:
            return []
        return self.store.queue.claim(self.name, version=self.version, lease=self.lease,
                                      limit=limit,
                                      formats={k: self.formats.get(k, 1) for k in kinds})

    def execute(self, claim: Claim) -> Request | None:
        """Do one claimed request; the completed request (the queued one when it was given
        back to retry), or None if the claim was lost."""
        job = Job(self.settings, self.store, claim)
        with self._beating([claim]):
            started = time.monotonic()
            succeeded, result = self._run(job)
        self._observe(job, succeeded, result, time.monotonic() - started)
        return self._complete(job, succeeded, result)

    def execute_batch(self, claims: list[Claim]) -> list[Request | None]:
        """Do claimed requests of batched kinds, those of one handler in one call."""
        jobs = [Job(self.settings, self.store, claim) for claim in claims]
        outcomes: dict[int, tuple[bool, Any]] = {}
        with self._beating(claims):
            started = time.monotonic()
            groups: dict[BatchHandler, list[int]] = {}
            for n, job in enumerate(jobs):
                groups.setdefault(self.batches[job.request.kind], []).append(n)
            for handler, members in groups.items():
                outcomes.update(zip(members, self._run_batch(handler, [jobs[n] for n in members]),
                                    strict=True))
            took = time.monotonic() - started
        done = []
        for n, job in enumerate(jobs):
            self._observe(job, *outcomes[n], took)
            done.append(self._complete(job, *outcomes[n]))
        return done

    def _run_batch(self, handler: BatchHandler, jobs: list[Job]) -> list[tuple[bool, Any]]:
        log_each([(job, f"attempt {job.claim.attempt} by worker {self.name}") for job in jobs])
        try:
            results = handler(jobs)
        except GoldenpathError as err:  # the batch as a whole failed (git, the store)
            return [self._outcome(job, err) for job in jobs]
        except Exception:  # a bug: the requests fail, the worker lives on
            log.exception("requests %s: internal error", ", ".join(j.request.id for j in jobs))
            return [(False, self._failed(job, "InternalError", _INTERNAL)) for job in jobs]
        return [self._outcome(job, result) if isinstance(result, GoldenpathError)
                else (True, result) for job, result in zip(jobs, results, strict=True)]

    def _observe(self, job: Job, succeeded: bool, result: Any, seconds: float) -> None:
        if self.observe is not None:
            outcome = "retried" if isinstance(result, _Retry) else \
                "succeeded" if succeeded else "failed"
            self.observe(job.request.kind, outcome, seconds)

    @contextmanager
    def _beating(self, claims: list[Claim]) -> Iterator[None]:
        """Keep the claims' leases alive while the block runs."""
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(claims, stop), daemon=True,
                                name=f"heartbeat-{claims[0].request.id}")
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()

    def _run(self, job: Job) -> tuple[bool, Any]:
        handler = self.handlers.get(job.request.kind)
        try:
            if handler is None:
                raise Conflict(f"no worker handles requests of kind {job.request.kind!r}")
            job.log(f"attempt {job.claim.attempt} by worker {self.name}")
            return True, handler(job)
        except GoldenpathError as err:
            return self._outcome(job, err)
        except Exception:  # a bug: the request fails, the worker lives on
            log.exception("request %s: internal error", job.request.id,
                          extra={"request_id": job.request.id})
            return False, self._failed(job, "InternalError", _INTERNAL)

    def _outcome(self, job: Job, error: GoldenpathError) -> tuple[bool, Any]:
        """A request's outcome when ``error`` stopped it: retried later when a server it
        needs is down (the remote, the store), else failed with the error's message."""
        if isinstance(error, TRANSIENT):
            return False, _Retry(error)
        return False, self._failed(job, type(error).__name__, str(error))

    def _failed(self, job: Job, error: str, message: str) -> dict[str, str]:
        with suppress(GoldenpathError):  # the log is best effort; the outcome matters
            job.log(f"{error}: {message}", level="error")
        return {"error": error, "message": message}

    def _retry_later(self, job: Job, error: GoldenpathError) -> Request | None:
        """Give the request back to the queue until its backoff is over; the error is
        logged with the retry's number and time."""
        delay = min(self.retry * 2 ** min(job.request.retries, 32), self.retry_max)
        try:
            back = self.store.queue.retry_later(job.claim, after=delay)
        except Conflict as err:
            log.warning("%s", err, extra={"request_id": job.request.id})
            return None
        when = back.retry_at.isoformat(timespec="seconds") if back.retry_at else "now"
        with suppress(GoldenpathError):  # the log is best effort; the request is queued
            job.log(f"{type(error).__name__}: {error}; the request stays queued: retry "
                    f"{back.retries} at {when} (in {delay.total_seconds():g}s)",
                    level="warning")
        return back

    def _complete(self, job: Job, succeeded: bool, result: Any) -> Request | None:
        if isinstance(result, _Retry):
            return self._retry_later(job, result.error)
        try:
            done = self.store.queue.complete(job.claim, succeeded=succeeded, result=result)
        except Conflict as err:
            log.warning("%s", err, extra={"request_id": job.request.id})
            return None
        self.store.audit.append(actor=done.actor, action=done.kind, outcome=done.state,
                                team=done.team, request=done.id, details=result)
        return done

    def _heartbeat(self, claims: list[Claim], done: threading.Event) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        held = list(claims)
        while held and not done.wait(interval):
            held = [beaten for claim in held if (beaten := self._beat(claim)) is not None]

    def _beat(self, claim: Claim) -> Claim | None:
        """The claim with its lease extended; None once another worker took it."""
        try:
            return self.store.queue.heartbeat(claim, lease=self.lease)
        except Conflict:
            log.warning("request %s: lease lost to another worker", claim.request.id,
                        extra={"request_id": claim.request.id})
            return None
        except GoldenpathError as err:  # the store hiccuped; the next beat may pass
            log.warning("request %s: heartbeat failed: %s", claim.request.id, err,
                        extra={"request_id": claim.request.id})
            return claim
