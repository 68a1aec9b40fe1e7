"""Retryable gRPC statuses, as OTLP/gRPC exporters expect them."""

from __future__ import annotations

from typing import Any

from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

RETRY_INFO_KEY = "google.rpc.retryinfo-bin"


def retry_status(code: int, message: str, delay: float) -> tuple[Any, str, Any]:
    """``(code, details, trailing metadata)`` for an abort with ``RetryInfo`` of ``delay`` seconds.

    The ``RetryInfo`` travels twice: in the standard ``grpc-status-details-bin`` status details,
    and alone under ``google.rpc.retryinfo-bin``, the key the OpenTelemetry Python exporter reads.
    """
    retry_delay = duration_pb2.Duration()
    retry_delay.FromNanoseconds(max(1, int(delay * 1e9)))
    info = error_details_pb2.RetryInfo(retry_delay=retry_delay)
    detail = any_pb2.Any()
    detail.Pack(info)
    status = rpc_status.to_status(status_pb2.Status(code=code, message=message, details=[detail]))
    trailing = (*status.trailing_metadata, (RETRY_INFO_KEY, info.SerializeToString()))
    return status.code, status.details, trailing
