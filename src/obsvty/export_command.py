"""``obsvty export``: the command around :mod:`obsvty.adapters.api.export_client`."""

from __future__ import annotations

import os
import sys
import time
from typing import BinaryIO, TextIO

from obsvty.adapters.api.export_client import ExportError, QueryApiClient, export
from obsvty.adapters.api.query_params import parse_duration, parse_time
from obsvty.application.query import QueryError
from obsvty.domain.model import Signal

EXIT_FAILED = 1


def default_api_url() -> str:
    """The query API of an obsvty on this machine with this environment's settings."""
    host = os.environ.get("OBSVTY_API_HOST", "127.0.0.1")
    # a wildcard bind address is reached on loopback (nothing is bound here)
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 # nosec B104
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('OBSVTY_API_PORT', '8000')}"


def parse_since(text: str, now_ns: int) -> int:
    """``1h`` (a duration back from now) or any time :func:`parse_time` reads (an integer is
    unix nanoseconds, not a duration)."""
    if text.strip().isdigit():
        return int(text)
    try:
        return now_ns - parse_duration("since", text)
    except QueryError:
        return parse_time("since", text, now_ns)


def run_export(
    signal: str,
    since: str,
    until: str,
    api_url: str | None,
    token: str | None,
    out: BinaryIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Write the export to ``out`` (stdout), one request per line; 0 when complete, else 1 with
    the reason on ``err`` (stderr)."""
    out = out if out is not None else sys.stdout.buffer
    err = err if err is not None else sys.stderr
    now = time.time_ns()
    try:
        start = parse_since(since, now)
        end = parse_time("until", until, now)
        if start >= end:
            raise ExportError(f"--since ({since}) must be before --until ({until})")
        client = QueryApiClient(
            api_url or default_api_url(), token or os.environ.get("OBSVTY_EXPORT_TOKEN")
        )
        lines = 0
        for request in export(client, Signal(signal), start, end):
            out.write(request.replace(b"\n", b""))  # OTLP/JSON from the API has none: be sure
            out.write(b"\n")
            lines += 1
        out.flush()
    except QueryError as exc:
        print(f"obsvty export: {exc}", file=err)
        return EXIT_FAILED
    except ExportError as exc:
        print(f"obsvty export: {exc}", file=err)
        return EXIT_FAILED
    except BrokenPipeError:  # the reader went away (e.g. `| head`): not an error of ours
        return 0
    print(f"obsvty export: {lines} {signal} export requests written", file=err)
    return 0
