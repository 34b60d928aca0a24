"""No secret values in git: no Secret objects, and credentials only as references.

Decided from every object's content, whatever its kind or coordinates:

- ``Secret`` objects are refused, and so is ConfigMap ``binaryData`` (opaque bytes
  nobody can review);
- a field named like a credential (the Prometheus Operator's SecretKeySelector fields in
  AlertmanagerConfig receivers, ``password``, ``token``...) holds a reference: a mapping of
  ``name``/``key`` (``optional``), never a scalar, and nothing besides;
- a webhook receiver's ``url`` is a literal (the URL is the credential): ``urlSecret``
  must be used instead;
- no URL anywhere carries credentials: no user information (``https://user:pass@``), no
  credential-named query parameter (``?token=``), no known secret-bearing webhook URL;
- text that ships as files or metadata (ConfigMap ``data`` values, annotation values)
  holds no credential assignment (``password: x``, ``"api_key": "x"``) and no value in a
  well-known credential format (private keys, cloud access keys, Slack and GitHub tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from goldenpath.memo import ContentMemo
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle
from goldenpath.spec.resolve import PlatformSpec

#: Fields that carry credentials; each must be a reference to a Secret. All but the last
#: line are SecretKeySelectors in the AlertmanagerConfig CRD (a test reads the CRD).
SENSITIVE_FIELDS = frozenset(
    {
        "accessKey", "apiKey", "apiSecret", "apiURL", "authPassword", "authSecret",
        "bearerTokenSecret", "botToken", "clientSecret", "credentials", "keySecret", "password",
        "routingKey", "secretKey", "serviceKey", "token", "tokenID", "urlSecret", "userKey",
        "webhookURL", "webhookUrl",
        "bearerToken",
    }
)
SELECTOR_KEYS = frozenset({"name", "key", "optional"})
_CREDENTIAL = (r"passw(?:or)?d|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key"
               r"|client[-_]?secret|credentials?|auth[-_]?token|bearer")
#: ``password: x``, ``"token": "x"``, ``API_KEY=x`` in free text; not an empty value,
#: a boolean, a nested block or a template placeholder, which hold no credential
ASSIGNMENT = re.compile(
    rf"""(?i)(?<![a-z0-9])["']?((?:[a-z0-9]+[-_.])*(?:{_CREDENTIAL}))["']?[ \t]*[:=]"""
    r"""(?![ \t]*(?:["']{2}|["']?[ \t]*(?:$|[,}\n])|["']?(?:\$\{|\{\{)"""
    r"""|(?:true|false|null|~)\b))""",
    re.MULTILINE,
)
#: Credentials recognisable by their format alone.
FORMATS = re.compile(
    r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|\bxox[abposr]-[0-9A-Za-z-]{10,}"
    r"|\bgh[pousr]_[0-9A-Za-z]{30,}"
    r"|\beyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}\."
)
#: Substrings (lower case) without one of which neither FORMATS nor ASSIGNMENT can match.
MARKERS = ("passw", "pwd", "secret", "token", "key", "credential", "bearer",
           "-----begin", "akia", "asia", "xox", "gh", "eyj")
CREDENTIAL_PARAM = re.compile(rf"(?i)^(?:.*[-_])?(?:{_CREDENTIAL}|key|sig|signature)$")
URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")
#: Webhook URLs whose path is the credential.
WEBHOOK_HOSTS = ("hooks.slack.com", "discord.com", "discordapp.com", "webhook.office.com",
                 "outlook.office.com")


def check(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    for resource in bundle:
        findings.cover()
        for message in _KNOWN.get("", resource.body, _problems):
            findings.fail(resource, message)


#: the problems of objects checked before, by content (see goldenpath.memo): a plan
#: renders mostly what the plan before it rendered, and the walk is pure
_KNOWN: ContentMemo[tuple[str, ...]] = ContentMemo(
    8 << 20, lambda problems: sum(map(len, problems)))


def _problems(body: dict[str, Any]) -> tuple[str, ...]:
    """Every problem of one object, decided from its content alone."""
    kind = body.get("kind")
    if kind == "Secret":
        return ("Secret objects are never written to git; reference a Secret created out "
                "of band",)
    found: list[str] = []
    if kind == "ConfigMap" and body.get("binaryData"):
        found.append("binaryData cannot be reviewed for credentials; goldenpath renders none")
    if _suspect(body):
        found.extend(f"{path} {problem}" for path, problem in _literal_secrets(body, ""))
    for path, text in _free_text(str(kind), body):
        problem = _text_problem(text)
        if problem:
            found.append(f"{path} {problem}")
    return tuple(found)


def _suspect(node: Any) -> bool:
    """Could anything here be a literal credential? One walk without naming a path
    (naming every field on the way was most of what this guardrail cost on objects
    listing 1,000 namespaces); paths are named only for the objects where it says yes."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, str):  # most values: tested first
            if key in SENSITIVE_FIELDS or ("://" in value and _url_problem(value)):
                return True
        elif isinstance(value, dict):
            if (key in SENSITIVE_FIELDS and not value.keys() <= SELECTOR_KEYS) \
                    or _suspect(value):
                return True
        elif isinstance(value, list):
            if key == "webhookConfigs" or key in SENSITIVE_FIELDS or _suspect(value):
                return True
        elif value is not None and key in SENSITIVE_FIELDS:
            return True
    return False


def _not_a_reference(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(set(value) - SELECTOR_KEYS)
    return value is not None


def _literal_secrets(node: Any, path: str) -> Iterator[tuple[str, str]]:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        here = (f"{path}.{key}" if path else str(key)) if isinstance(node, dict) \
            else f"{path}[{key}]"
        if key in SENSITIVE_FIELDS and _not_a_reference(value):
            yield here, (
                "is not a secret reference: only name, key and optional, found "
                f"{', '.join(sorted(map(str, set(value) - SELECTOR_KEYS)))}"
                if isinstance(value, dict) else "holds a literal value; use a secret reference"
            )
        elif key == "url" and isinstance(value, str) and ".webhookConfigs[" in here:
            yield here, "holds a literal webhook URL, which is its own credential; use urlSecret"
        elif isinstance(value, str) and "://" in value:
            problem = _url_problem(value)
            if problem:
                yield here, problem
        elif isinstance(value, dict | list):
            yield from _literal_secrets(value, here)


def _free_text(kind: str, body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Text that ships as files or metadata, where a credential hides in plain words."""
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    for key, value in annotations.items():
        if isinstance(value, str):
            yield f"metadata.annotations.{key}", value
    if kind == "ConfigMap":
        for key, value in (body.get("data") or {}).items():
            if isinstance(value, str) and key not in SENSITIVE_FIELDS:  # reported already
                # the key names the file: "db-password: hunter2" is a credential too
                yield f"data.{key}", f"{key}: {value}"


def _text_problem(text: str) -> str:
    """A credential in free text: in a well-known format, or assigned to a credential
    name. Dashboards run to kilobytes each: the regular expressions run only on text
    holding one of the words they look for (plain substring tests are far cheaper)."""
    lowered = text.lower()
    if not any(marker in lowered for marker in MARKERS):
        return ""
    if FORMATS.search(text):
        return "holds a value in a credential format; use a secret reference"
    # URLs are judged as URLs (a query's "token=" is reported there)
    found = ASSIGNMENT.search(URL.sub(" ", text) if "://" in text else text)
    if found:
        return f"assigns {found.group(1)!r} a literal value; use a secret reference"
    return ""


#: The same few URLs (the in-cluster API server, the control repository) recur in every
#: destination and source of every team.
@lru_cache(maxsize=4096)
def _url_problem(text: str) -> str:
    for match in URL.finditer(text):
        try:
            url = urlsplit(match.group(0))
            params = parse_qsl(url.query, keep_blank_values=True)
            host = (url.hostname or "").lower()
        except ValueError:
            return "holds a URL that cannot be parsed"
        if "@" in url.netloc:
            return "holds a URL with credentials (user information before '@')"
        if any(CREDENTIAL_PARAM.match(name) and value for name, value in params):
            return "holds a URL with a credential in its query"
        if host.endswith(WEBHOOK_HOSTS) and len(url.path.strip("/").split("/")) > 1:
            return "holds a webhook URL, which is its own credential; use a secret reference"
    return ""
