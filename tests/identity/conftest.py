"""An OIDC issuer for the identity tests: real keys, a real HTTP server on 127.0.0.1.

``issuer`` serves ``/.well-known/openid-configuration`` and ``/jwks`` from a thread
running :mod:`http.server`; tests change ``issuer.jwks`` (rotation) or ``issuer.routes``
(hostile answers) while it runs, and count ``issuer.hits``. ``issuer.mint`` signs tokens
with the keys it publishes (or with keys it does not).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from goldenpath.identity import KeySet, OIDCConfig, OIDCVerifier

AUDIENCE = "goldenpath-api"


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: PrivateKeyTypes

    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        public = self.private.public_key()  # type: ignore[union-attr]
        data: dict[str, Any] = json.loads(algorithm.to_jwk(public))
        return {**data, "kid": self.kid, "use": "sig", "alg": self.alg}


def rsa_key(kid: str, alg: str = "RS256", bits: int = 2048) -> SigningKey:
    return SigningKey(kid, alg, rsa.generate_private_key(public_exponent=65537, key_size=bits))


def ec_key(kid: str, alg: str = "ES256") -> SigningKey:
    curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1()}[alg]
    return SigningKey(kid, alg, ec.generate_private_key(curve))


# one of each, made once: RSA key generation is the slow part of these tests
_RSA = rsa_key("rsa-1")
_EC = ec_key("ec-1")


@dataclass
class Issuer:
    url: str
    keys: list[SigningKey]
    jwks: dict[str, Any] = field(default_factory=dict)
    #: path -> (status, body bytes, extra headers); overrides the defaults
    routes: dict[str, tuple[int, bytes, dict[str, str]]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    delay: float = 0.0
    #: send no Content-Length: the body ends when the connection closes
    unsized: bool = False
    #: seconds between the bytes of a body
    trickle: float = 0.0

    def publish(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.jwks = {"keys": [k.jwk() for k in keys]}

    def discovery(self) -> dict[str, Any]:
        return {"issuer": self.url, "jwks_uri": f"{self.url}/jwks",
                "id_token_signing_alg_values_supported": ["RS256", "ES256"]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {"iss": self.url, "aud": AUDIENCE, "sub": "00u1",
                                "email": "alice@example.com", "groups": ["payments-devs"],
                                "iat": now, "nbf": now, "exp": now + 600}
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def mint(self, key: SigningKey | None = None, *, headers: dict[str, Any] | None = None,
             **claims: Any) -> str:
        key = key or self.keys[0]
        return jwt.encode(self.claims(**claims), key.private, algorithm=key.alg,  # type: ignore[arg-type]
                          headers={k: v for k, v in {"kid": key.kid, **(headers or {})}.items()
                                   if v is not None})


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.hits[self.path] += 1
            if issuer.delay:
                time.sleep(issuer.delay)
            status, body, headers = issuer.routes.get(self.path) or self._default()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            if "Content-Length" not in headers and not issuer.unsized:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not issuer.trickle:
                self.wfile.write(body)
                return
            for i in range(len(body)):  # one byte at a time, each within a read timeout
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(issuer.trickle)

        def _default(self) -> tuple[int, bytes, dict[str, str]]:
            if self.path == "/.well-known/openid-configuration":
                return 200, json.dumps(issuer.discovery()).encode(), {}
            if self.path == "/jwks":
                return 200, json.dumps(issuer.jwks).encode(), {}
            return 404, b"{}", {}

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    found = Issuer(url="", keys=[])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    found.publish(_RSA, _EC)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def rsa_signer() -> SigningKey:
    return _RSA


@pytest.fixture
def ec_signer() -> SigningKey:
    return _EC


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_verifier(issuer: Issuer, clock: Clock) -> Callable[..., OIDCVerifier]:
    def make(**overrides: Any) -> OIDCVerifier:
        keys = {k: overrides.pop(k) for k in ("ttl", "min_refresh") if k in overrides}
        config = OIDCConfig(**{"issuer": issuer.url, "audience": AUDIENCE, **overrides})
        return OIDCVerifier(config, KeySet(issuer=config.issuer, jwks_url=config.jwks_url,
                                           limits=config.fetch, clock=clock, **keys))

    return make


@pytest.fixture
def verifier(make_verifier: Callable[..., OIDCVerifier]) -> OIDCVerifier:
    return make_verifier()
