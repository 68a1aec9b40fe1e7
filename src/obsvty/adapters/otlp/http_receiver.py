"""The OTLP/HTTP receiver: ``POST /v1/traces``, ``/v1/logs`` and ``/v1/metrics``.

Binary protobuf and OTLP/JSON bodies, optionally gzip-compressed. Every answer, errors included,
is in the encoding of the request (a ``google.rpc.Status`` for errors), as the OTLP spec asks.
The size limit applies to the body after decompression, which is inflated in bounded steps so
that a small compressed body cannot expand without limit in memory.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from obsvty.adapters.otlp.codec import CODECS, PayloadError, SignalCodec, message_to_json
from obsvty.adapters.telemetry.http_endpoints import operability_routes
from obsvty.adapters.telemetry.metrics import ObservedRequest, ObsvtyMetrics, ReceiverMetrics
from obsvty.application.health import HealthRegistry
from obsvty.application.ingest import DecodedRequest, IngestService, NotCommittedError
from obsvty.domain.model import Signal
from obsvty.ports.buffer import BufferFullError

log = logging.getLogger(__name__)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
RETRY_AFTER_SECONDS = 1
_INFLATE_CHUNK = 64 * 1024


class RequestError(Exception):
    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _encode(message: Message, media_type: str) -> tuple[bytes, str]:
    if media_type == PROTOBUF:
        return message.SerializeToString(), PROTOBUF
    return message_to_json(message), JSON


def _status_response(
    media_type: str,
    http_status: int,
    code: int,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    body, content_type = _encode(status_pb2.Status(code=code, message=message), media_type)
    return Response(body, status_code=http_status, media_type=content_type, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, code_pb2.INVALID_ARGUMENT, f"request body over {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, code_pb2.INVALID_ARGUMENT, f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _inflate(body: bytes, encoding: str, limit: int) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise RequestError(
            400, code_pb2.INVALID_ARGUMENT, f"unsupported Content-Encoding {encoding!r}"
        )
    # wbits: 16 + MAX_WBITS reads a gzip header, MAX_WBITS a zlib one
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    out = []
    size = 0
    data = body
    try:
        while data:
            chunk = inflater.decompress(data, _INFLATE_CHUNK)
            size += len(chunk)
            if size > limit:
                raise RequestError(
                    413, code_pb2.INVALID_ARGUMENT, f"decompressed body over {limit} bytes"
                )
            out.append(chunk)
            data = inflater.unconsumed_tail
        tail = inflater.flush()
    except zlib.error as exc:
        raise RequestError(
            400, code_pb2.INVALID_ARGUMENT, f"invalid {encoding} body: {exc}"
        ) from None
    if not inflater.eof:
        raise RequestError(400, code_pb2.INVALID_ARGUMENT, f"truncated {encoding} body")
    out.append(tail)
    return b"".join(out)


class ExportEndpoint:
    def __init__(
        self,
        codec: SignalCodec[Any],
        ingest: IngestService,
        max_size: int,
        max_compressed_size: int | None = None,
        metrics: ReceiverMetrics | None = None,
    ) -> None:
        self._codec = codec
        self._ingest = ingest
        self._max_size = max_size
        self._max_compressed_size = max_compressed_size or max_size
        self._metrics = metrics or ObsvtyMetrics().receiver(codec.signal, "http")

    async def handle(self, request: Request) -> Response:
        with self._metrics.request(request.headers.get("x-request-id")) as observed:
            return await self._handle(request, observed)

    async def _handle(self, request: Request, observed: ObservedRequest) -> Response:
        media_type = _media_type(request)
        if media_type not in (PROTOBUF, JSON):
            observed.fail("invalid")
            return _status_response(
                JSON,
                415,
                code_pb2.INVALID_ARGUMENT,
                f"unsupported Content-Type {media_type!r}: use {PROTOBUF} or {JSON}",
            )
        codec = self._codec
        decoded: DecodedRequest | None = None
        try:
            encoding = request.headers.get("content-encoding", "")
            compressed = encoding.strip().lower() not in ("", "identity")
            limit = self._max_compressed_size if compressed else self._max_size
            body = await _read_body(request, limit)
            body = _inflate(body, encoding, self._max_size)
            if not self._ingest.has_room(len(body)):  # refused before any decoding work
                raise BufferFullError("the buffer is full")
            if media_type == PROTOBUF:
                decoded = codec.decode_protobuf(body)
            else:
                decoded = codec.decode_json(body)
            result = await self._ingest.submit(decoded, len(body))
        except RequestError as exc:
            observed.fail("invalid")
            return _status_response(media_type, exc.http_status, exc.code, exc.message)
        except PayloadError as exc:
            observed.fail("invalid")
            return _status_response(media_type, 400, code_pb2.INVALID_ARGUMENT, str(exc))
        except (BufferFullError, NotCommittedError) as exc:
            refused = 0 if decoded is None else len(decoded.batch) + decoded.rejected
            observed.fail("overloaded", refused)
            return _status_response(
                media_type,
                503,
                code_pb2.UNAVAILABLE,
                f"obsvty is overloaded: {exc}",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        observed.done(result)
        payload, content_type = _encode(codec.response(result), media_type)
        return Response(payload, media_type=content_type)


def create_app(
    ingest: IngestService,
    max_request_size: int,
    *,
    max_compressed_size: int | None = None,
    codecs: Mapping[Signal, SignalCodec[Any]] = CODECS,
    metrics: ObsvtyMetrics | None = None,
    health: HealthRegistry | None = None,
) -> FastAPI:
    """The OTLP/HTTP application. Export routes are plain Starlette routes: no validation or
    dependency layer on the hot path, and no place in an OpenAPI schema.

    ``max_request_size`` bounds a body after decompression, ``max_compressed_size`` (default:
    the same) a compressed body as received; ``codecs`` may carry input limits."""
    app = FastAPI(
        title="obsvty OTLP/HTTP receiver", docs_url=None, redoc_url=None, openapi_url=None
    )
    counters = metrics if metrics is not None else ObsvtyMetrics()
    for signal in Signal:
        app.router.routes.append(
            Route(
                f"/v1/{signal.value}",
                ExportEndpoint(
                    codecs[signal],
                    ingest,
                    max_request_size,
                    max_compressed_size,
                    counters.receiver(signal, "http"),
                ).handle,
                methods=["POST"],
            )
        )
    # /healthz, /readyz and /metrics (see docs/OPERATIONS.md)
    app.router.routes.extend(operability_routes(health, metrics))
    return app
