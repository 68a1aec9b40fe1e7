"""ASGI middleware guarding the HTTP listeners.

:class:`IngestGuard` sits in front of the OTLP/HTTP receiver: bearer-token authentication (401
with ``WWW-Authenticate``) and the per-client rate limit (429 with ``Retry-After``), answered as a
``google.rpc.Status`` in the request's encoding, as OTLP asks, before any of the body is read.

:class:`QueryGuard` sits in front of the query API and UI: bearer-token authentication with the
*query* token set (from the ``Authorization`` header, or the ``obsvty_token`` cookie a browser
UI can hold) and security headers on every answer. :func:`secure_query_app` adds it, and CORS
when origins are allowed (closed by default), to any ASGI application. The probes (``/healthz``,
``/readyz``) and ``/metrics`` are open to it: :class:`MetricsGuard`, on every listener, asks for a
*metrics* token on ``/metrics`` when such tokens are set.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import orjson
from google.rpc import code_pb2, status_pb2
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from obsvty.adapters.otlp.codec import message_to_json
from obsvty.adapters.security.auth import TokenSet, bearer_token, challenge, token_client
from obsvty.adapters.security.ratelimit import RateLimiter, retry_after_seconds
from obsvty.domain.model import Signal

PROTOBUF = "application/x-protobuf"
TOKEN_COOKIE = "obsvty_token"  # noqa: S105 - the cookie's name, not a secret
INGEST_PATHS: Mapping[str, Signal] = {f"/v1/{s.value}": s for s in Signal}

Refusal = Callable[[Signal, str], None]
OPEN_PATHS = ("/healthz", "/readyz", "/livez", "/metrics")
"""Paths the query token does not guard: probes for orchestrators, metrics for scrapers."""
METRICS_PATH = "/metrics"

SECURITY_HEADERS: Sequence[tuple[str, str]] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'",
    ),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def _status(
    headers: Headers, http_status: int, code: int, message: str, extra: dict[str, str]
) -> Response:
    status = status_pb2.Status(code=code, message=message)
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == PROTOBUF:
        return Response(status.SerializeToString(), http_status, extra, PROTOBUF)
    return Response(message_to_json(status), http_status, extra, "application/json")


class IngestGuard:
    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenSet | None = None,
        limiter: RateLimiter | None = None,
        on_refusal: Refusal | None = None,
        paths: Mapping[str, Signal] = INGEST_PATHS,
    ) -> None:
        self.app = app
        self._tokens = tokens if tokens is not None and tokens.enabled else None
        self._limiter = limiter if limiter is not None and limiter.enabled else None
        self._on_refusal = on_refusal
        self._paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        signal = self._paths.get(scope["path"])
        if signal is None or (self._tokens is None and self._limiter is None):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client: str | None = None
        if self._tokens is not None:
            presented = bearer_token(headers.get("authorization"))
            index = self._tokens.match(presented)
            if index is None:
                self._refused(signal, "unauthenticated")
                error = None if presented is None else "invalid_token"
                message = (
                    "missing bearer token: send 'Authorization: Bearer <token>'"
                    if presented is None
                    else "invalid bearer token"
                )
                response = _status(
                    headers,
                    401,
                    code_pb2.UNAUTHENTICATED,
                    message,
                    {"WWW-Authenticate": challenge(error)},
                )
                await response(scope, receive, send)
                return
            client = token_client(index)
        if self._limiter is not None:
            if client is None:
                peer = scope.get("client")
                client = peer[0] if peer else "unknown"
            wait = self._limiter.check(client, signal)
            if wait > 0:
                self._refused(signal, "rate_limited")
                seconds = retry_after_seconds(wait)
                response = _status(
                    headers,
                    429,
                    code_pb2.RESOURCE_EXHAUSTED,
                    f"rate limit for {signal.value} exceeded; retry in {seconds}s",
                    {"Retry-After": str(seconds)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refused(self, signal: Signal, reason: str) -> None:
        if self._on_refusal is not None:
            self._on_refusal(signal, reason)


class QueryGuard:
    """Query token authentication (unless ``tokens`` is empty) and security headers."""

    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenSet | None = None,
        *,
        open_paths: Collection[str] = OPEN_PATHS,
        hsts: bool = False,
        on_refusal: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self._on_refusal = on_refusal
        self._tokens = tokens if tokens is not None and tokens.enabled else None
        self._open = frozenset(open_paths)
        self._headers = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
        if hsts:
            self._headers.append((HSTS[0].encode(), HSTS[1].encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in extra:
                    if key.decode() not in headers:
                        headers.raw.append((key, value))
            await send(message)

        if self._tokens is not None and scope["path"] not in self._open:
            refusal = _query_refusal(self._tokens, Headers(scope=scope))
            if refusal is not None:
                if self._on_refusal is not None:
                    self._on_refusal("unauthenticated")
                await refusal(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


class MetricsGuard:
    """``/metrics`` only for a bearer token of ``tokens`` (a scraper's, e.g. Prometheus's
    ``authorization`` or ``bearer_token_file``); every other path passes through."""

    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenSet,
        on_refusal: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self._tokens = tokens
        self._on_refusal = on_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == METRICS_PATH:
            presented = bearer_token(Headers(scope=scope).get("authorization"))
            if self._tokens.match(presented) is None:
                if self._on_refusal is not None:
                    self._on_refusal("unauthenticated")
                error = None if presented is None else "invalid_token"
                body = {"error": "unauthenticated", "message": "a metrics bearer token is required"}
                response = Response(
                    orjson.dumps(body),
                    401,
                    {"WWW-Authenticate": challenge(error)},
                    "application/json",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _query_refusal(tokens: TokenSet, headers: Headers) -> Response | None:
    presented = bearer_token(headers.get("authorization"))
    if presented is None:
        cookies = cookie_parser(headers.get("cookie", ""))
        presented = cookies.get(TOKEN_COOKIE) or None
    if tokens.match(presented) is not None:
        return None
    error = None if presented is None else "invalid_token"
    body = {"error": "unauthenticated", "message": "a valid query bearer token is required"}
    return Response(
        orjson.dumps(body), 401, {"WWW-Authenticate": challenge(error)}, "application/json"
    )


def secure_query_app(
    app: ASGIApp,
    tokens: TokenSet | None,
    cors_allow_origins: Sequence[str] = (),
    *,
    hsts: bool = False,
    on_refusal: Callable[[str], None] | None = None,
) -> ASGIApp:
    """``app`` behind :class:`QueryGuard`, and behind CORS for ``cors_allow_origins`` if any
    (outermost, so that a browser's pre-flight, which carries no credentials, is answered)."""
    guarded: ASGIApp = QueryGuard(app, tokens, hsts=hsts, on_refusal=on_refusal)
    if cors_allow_origins:
        guarded = CORSMiddleware(
            guarded,
            allow_origins=list(cors_allow_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
        )
    return guarded


def origins(value: str) -> list[str]:
    return [o.strip() for o in value.split(",") if o.strip()]
