"""obsvty's own logs: one JSON object per line (or a readable line on a terminal), each carrying
the id of the request it belongs to.

Receivers bind a request id for the duration of a request (:func:`bind_request_id`); every line
logged meanwhile, from any module, carries it. Log messages never contain telemetry content;
as a second line of defence, credentials that look like bearer tokens, basic-auth headers or API
keys are masked in every line before it is written.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import IO, Literal

import orjson

LogFormat = Literal["auto", "json", "text"]

request_id_var: ContextVar[str] = ContextVar("obsvty_request_id", default="")

_REQUEST_ID_OK = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
_SECRETS = re.compile(
    r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=\-]{4,}"
    r"|((?:authorization|api[-_]?key|x-api-key|token|password|secret)[\"']?\s*[:=]\s*[\"']?"
    r"(?:(?:bearer|basic)\s+)?)"
    r"[^\s\"',;]{4,}"
)
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)


def new_request_id() -> str:
    return os.urandom(8).hex()


def bind_request_id(candidate: str | None = None) -> Token[str]:
    """Bind the request id for the current context: the client's ``x-request-id`` when it is a
    sane token, else a new random one. Returns the token for :func:`reset_request_id`."""
    rid = candidate if candidate and _REQUEST_ID_OK.fullmatch(candidate) else new_request_id()
    return request_id_var.set(rid)


def reset_request_id(token: Token[str]) -> None:
    request_id_var.reset(token)


def mask_secrets(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``***``."""
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, and
    any ``extra=`` fields; exceptions as ``exc_info`` text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        rid = getattr(record, "request_id", "")
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key != "request_id" and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = mask_secrets(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger [request id]: message`` for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", "")
        record.rid = f" [{rid}]" if rid else ""
        return mask_secrets(super().format(record))


def configure_logging(
    level: str, log_format: LogFormat = "auto", stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log line to ``stream`` (stderr) at ``level``: JSON unless ``auto`` and the
    stream is a terminal. Replaces handlers installed before; returns the new handler."""
    out = stream if stream is not None else sys.stderr
    use_json = log_format == "json" or (log_format == "auto" and not _is_tty(out))
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return handler


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
