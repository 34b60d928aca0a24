"""The API's request and response bodies (pydantic), with examples for the OpenAPI
document. Bodies a caller sends refuse unknown fields, as the spec models do."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from goldenpath.services.gitops import Plan
from goldenpath.store import AuditEntry, LogLine, Request, Token

_RID = "3f0c9a52-6b1e-4d8e-9a57-2f4f7f6b9c11"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewService(Strict):
    """A service to scaffold from one of the platform's templates."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "refunds", "template": "python-worker", "parameters": {"queue": "refunds"}}]})

    name: str = Field(min_length=1, max_length=63, description="DNS label, unique in the team")
    template: str = Field(min_length=1, max_length=63,
                          description="A template of GET /v1/templates")
    parameters: dict[str, str] = Field(default_factory=dict, max_length=32,
                                       description="The template's declared parameters")


class Decision(Strict):
    reason: str | None = Field(default=None, max_length=1024, examples=["within budget"])


class LogOut(BaseModel):
    seq: int
    at: datetime
    level: str
    message: str

    @classmethod
    def of(cls, line: LogLine) -> LogOut:
        return cls(seq=line.seq, at=line.at, level=line.level, message=line.message)


class RequestOut(BaseModel):
    """A durable request: what was asked, by whom, where it is, and what came of it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": _RID, "kind": "service.create", "team": "payments",
        "actor": "user:alice@example.com", "state": "succeeded",
        "payload": {"name": "refunds", "template": "python-worker",
                    "parameters": {"queue": "refunds"},
                    "grantedBy": ["user:alice@example.com"]},
        "result": {"repository": ".goldenpath/repos/payments/refunds.git",
                   "commit": "9f2c...", "service": "refunds", "team": "payments",
                   "template": "python-worker", "version": "1.0.0",
                   "specCommit": "41d7..."},
        "created_at": "2026-11-29T12:00:00Z", "updated_at": "2026-11-29T12:00:03Z",
        "started_at": "2026-11-29T12:00:01Z", "finished_at": "2026-11-29T12:00:03Z",
        "attempts": 1, "retries": 0, "retry_at": None, "approved_by": None,
        "rejected_by": None, "decision_reason": None, "log": []}]})

    id: str
    kind: str
    team: str
    actor: str
    state: str = Field(description="pending-approval, queued, running, succeeded, failed "
                                   "or rejected")
    payload: Any
    result: Any = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int
    retries: int = Field(default=0, description="times it was given back to the queue "
                                                "because a server it needs was down")
    retry_at: datetime | None = Field(default=None, description="a queued request given "
                                      "back is not tried again before this time")
    approved_by: str | None = None
    rejected_by: str | None = None
    decision_reason: str | None = None
    log: list[LogOut] = Field(default_factory=list)

    @classmethod
    def of(cls, request: Request, log: list[LogLine] | None = None) -> RequestOut:
        return cls(id=request.id, kind=request.kind, team=request.team, actor=request.actor,
                   state=request.state, payload=request.payload, result=request.result,
                   created_at=request.created_at, updated_at=request.updated_at,
                   started_at=request.started_at, finished_at=request.finished_at,
                   attempts=request.attempts, retries=request.retries,
                   retry_at=request.retry_at, approved_by=request.approved_by,
                   rejected_by=request.rejected_by, decision_reason=request.decision_reason,
                   log=[LogOut.of(line) for line in log or []])


class TemplateOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "python-worker", "kind": "worker", "version": "1.0.0",
        "parameters": {"type": "object", "additionalProperties": False,
                       "required": ["queue"],
                       "properties": {"queue": {"type": "string", "maxLength": 1024,
                                                "pattern": "^[a-z0-9][a-z0-9._-]{0,99}$",
                                                "description": "Name of the queue"}}}}]})

    name: str
    kind: str
    version: str
    parameters: dict[str, Any] = Field(description="JSON Schema of the template's parameters")


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    team: str | None
    request_id: str | None
    outcome: str
    details: Any

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls(id=entry.id, at=entry.at, actor=entry.actor, action=entry.action,
                   team=entry.team, request_id=entry.request_id, outcome=entry.outcome,
                   details=entry.details)


class AuditPageOut(BaseModel):
    entries: list[AuditOut]
    next_before: int | None = Field(description="Pass as `before` for the next page; null "
                                                "on the last")


class NewToken(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"subject": "user:alice@example.com", "name": "alice's laptop",
         "expires_at": "2027-01-01T00:00:00Z"}]})

    subject: str = Field(min_length=1, max_length=253, pattern=r"^(user|group):[^\s:,]+$",
                         description="`user:<name>` or `group:<name>` the token speaks for")
    name: str = Field(min_length=1, max_length=128)
    expires_at: datetime | None = None


class TokenOut(BaseModel):
    id: str
    name: str
    subject: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    revoked_by: str | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: Token) -> TokenOut:
        return cls(id=token.id, name=token.name, subject=token.subject,
                   created_by=token.created_by, created_at=token.created_at,
                   expires_at=token.expires_at, revoked=token.revoked,
                   revoked_by=token.revoked_by, revoked_at=token.revoked_at)


class MintedTokenOut(BaseModel):
    token: TokenOut
    secret: str = Field(description="The bearer token; shown this once, stored only hashed")


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    checks: dict[str, str] = Field(default_factory=dict,
                                   examples=[{"database": "ok", "git": "ok"}])


class TeamSummary(BaseModel):
    name: str
    etag: str = Field(description="The team's spec version (send it as If-Match)")


class TeamOut(BaseModel):
    """A team as the control repository holds it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "payments", "etag": "5b1d...", "path": "platform/teams/payments.yaml",
        "revision": "9f2c...", "spec": {"apiVersion": "goldenpath.dev/v1alpha1",
                                        "kind": "Team", "metadata": {"name": "payments"},
                                        "spec": {}},
        "namespaces": {"dev": "payments-dev", "prod": "payments-prod"},
        "services": ["checkout"]}]})

    name: str
    etag: str = Field(description="The git blob id of its spec file (also the ETag header)")
    path: str = Field(description="Its spec file in the control repository")
    revision: str | None = Field(description="The branch's head commit it was read at")
    spec: dict[str, Any]
    namespaces: dict[str, str] = Field(description="environment -> namespace")
    services: list[str]


class ObjectChangeOut(BaseModel):
    team: str
    kind: str
    name: str
    action: str = Field(description="added, changed or removed")
    path: str


class FileDiffOut(BaseModel):
    path: str
    diff: str = Field(description="Unified diff against the repository")


class PlanOut(BaseModel):
    """What a proposed spec would change; nothing was written. A platform admin sees
    every change; anyone else sees their team's objects and files (its spec, its objects
    wherever they live, ``tenants/<team>/``) and only the number of the others."""

    base: str | None = Field(description="The repository commit compared against")
    files: int = Field(description="Files apply would write or delete (for a non-admin: "
                                   "the team's files shown in diffs)")
    hidden: int = Field(default=0, ge=0, description=(
        "Changed files of other teams or of the platform this plan does not show, since "
        "the caller is not a platform admin (0 for admins, who see every change)"))
    objects: list[ObjectChangeOut]
    diffs: list[FileDiffOut]
    removes_namespaces: list[str]
    warnings: list[str]

    @classmethod
    def of(cls, plan: Plan, hidden: int = 0) -> PlanOut:
        return cls(base=plan.base, files=plan.files, hidden=hidden,
                   objects=[ObjectChangeOut(team=c.team, kind=c.kind, name=c.name,
                                            action=c.action, path=c.path)
                            for c in plan.objects],
                   diffs=[FileDiffOut(path=d.path, diff=d.diff) for d in plan.diffs],
                   removes_namespaces=list(plan.removals.namespaces),
                   warnings=list(plan.warnings))
