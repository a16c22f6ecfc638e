"""A loopback OpenID Connect provider for the sign-in tests: discovery, authorize, token and JWKS endpoints.

It signs in whoever :attr:`OidcStub.claims` describes without asking: ``/authorize`` redirects straight back
with a code, ``/token`` checks the client's id and secret (HTTP Basic, Authlib's default) and returns an
RS256 ID token carrying those claims and the request's nonce. Every request it served is kept in
:attr:`OidcStub.requests`, so a test can check what the dashboard sent to the provider.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class OidcStub:
    client_id: str
    client_secret: str
    claims: dict[str, Any]
    url: str = ""
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)  # method, path, params
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "stub"}))
    nonces: dict[str, str] = field(default_factory=dict)  # code -> nonce

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.client_id, "sub": "stub-user", "iat": now, "exp": now + 600,
                  "nonce": nonce, **self.claims}
        return jwt.encode({"alg": "RS256", "kid": "stub"}, claims, self.key)


def _handler(stub: OidcStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet: the test reads stub.requests
            pass

        def _reply(self, status: int, body: dict | None = None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            params = parse_qs(url.query)
            stub.requests.append(("GET", url.path, params))
            if url.path == "/.well-known/openid-configuration":
                self._reply(200, stub.metadata())
            elif url.path == "/jwks":
                self._reply(200, {"keys": [stub.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                code = secrets.token_urlsafe(16)
                stub.nonces[code] = params["nonce"][0]
                back = urlencode({"code": code, "state": params["state"][0]})
                self._reply(302, headers={"Location": f"{params['redirect_uri'][0]}?{back}"})
            else:
                self._reply(404, {"error": "not_found"})

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            stub.requests.append(("POST", self.path, form))
            basic = base64.b64encode(f"{stub.client_id}:{stub.client_secret}".encode()).decode()
            if self.path != "/token" or self.headers.get("Authorization") != f"Basic {basic}":
                self._reply(401, {"error": "invalid_client"})
                return
            nonce = stub.nonces.pop(form["code"][0])
            self._reply(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 600,
                              "id_token": stub.id_token(nonce)})

    return Handler


@contextmanager
def serve(stub: OidcStub) -> Iterator[OidcStub]:
    """``stub`` listening on a free loopback port (its ``url`` set) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
