"""A stand-in for Google's REST APIs on 127.0.0.1, for testing the real client libraries offline.

Google's clients (BigQuery; Cloud Billing with the REST transport) accept
``client_options={"api_endpoint": "http://127.0.0.1:PORT"}`` and anonymous credentials, so they send their real
HTTP requests here. A test registers a handler per method and path pattern that answers as the API's REST
reference documents, scripts faults (a 429 or 503 before success, a 403), and asserts on :attr:`StandIn.requests`:
every request the client sent, with its query string and JSON body.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass(frozen=True)
class Request:
    """One request as the stand-in received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any  # the parsed JSON body, or None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Reply = tuple[int, Any]  # HTTP status and a JSON-serialisable body (or its JSON as bytes)
Handler = Callable[[Request, re.Match[str]], Reply]


def error_body(status: int, message: str, reason: str = "") -> dict[str, Any]:
    """Google's JSON error envelope (``error.code``, ``message``, ``status``, ``errors[].reason``)."""
    error: dict[str, Any] = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    if reason:
        error["errors"] = [{"reason": reason, "message": message, "domain": "global"}]
    return {"error": error}


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    remaining: int


@dataclass
class StandIn:
    """The server; use as a context manager (it binds a free port on 127.0.0.1)."""

    requests: list[Request] = field(default_factory=list)
    _routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the stand-in is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer ``method`` requests whose path fully matches the regular expression ``pattern``."""
        self._routes.append((method, re.compile(pattern), handler))

    def fail(self, method: str, pattern: str, status: int, message: str = "", *, times: int = 1,
             reason: str = "") -> None:
        """Answer the next ``times`` matching requests with an HTTP error in Google's envelope."""
        self._faults.append(_Fault(method, re.compile(pattern), status,
                                   error_body(status, message or f"stand-in {status}", reason), times))

    def sent(self, method: str, pattern: str) -> list[Request]:
        """The requests received so far for ``method`` whose path fully matches ``pattern``."""
        regex = re.compile(pattern)
        with self._lock:
            return [r for r in self.requests if r.method == method and regex.fullmatch(r.path)]

    def __enter__(self) -> StandIn:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            for fault in self._faults:
                if fault.remaining and fault.method == request.method and fault.pattern.fullmatch(request.path):
                    fault.remaining -= 1
                    return fault.status, fault.body
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                return handler(request, match)
        return 404, error_body(404, f"stand-in has no route for {request.method} {request.path}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                status, reply = standin._answer(Request(self.command, url.path, parse_qs(url.query), body))
                data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()  # bytes: JSON already
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        return _Handler
