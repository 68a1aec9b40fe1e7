"""``obsvty export``: stored telemetry out of a running obsvty, as OTLP/JSON export requests.

The DuckDB file is locked while obsvty serves, so the export reads through the server's query API
(``/api/v1``) like any client, page by page, so that memory stays bounded whatever is stored. Each
yielded item is one OTLP/JSON export request (``ExportTraceServiceRequest`` etc.) on one line: post
it to any OTLP/HTTP receiver (``/v1/traces``, ``/v1/logs``, ``/v1/metrics``) to recreate the data.

* traces: one request per trace, each trace whole (every stored span), for the traces with a span
  starting in ``[since, until)``; pages of the trace search (newest first), the next page ending
  just after the last trace's key (ties at that nanosecond are skipped by id, so none repeats);
* logs: one request per page of records (cursor pagination, never skips or repeats);
* metrics: one request per metric name and time window; a window holding as many points as the
  API answers at most (its limit) is halved until it holds fewer, so nothing is cut off.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from obsvty.domain.model import Signal

TRACE_PAGE = 1000
"""Traces per search page (the API's maximum)."""
LOG_PAGE = 1000
"""Log records per page, and so per exported request (the API's maximum)."""
METRIC_POINTS_MAX = 100_000
"""Points the series API answers at most for one metric and window (``MetricQuery.limit``)."""
_CURSOR_HEADER = "X-Obsvty-Next-Cursor"


class ExportError(Exception):
    """The export cannot go on: the server is unreachable, refused a request, or answered
    something unexpected. The message says which and why."""


class QueryApiClient:
    """GET requests to obsvty's query API (standard library only)."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 60.0) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ExportError(f"--api-url {base_url!r} is not an http:// or https:// URL")
        self.base_url = base_url.rstrip("/")
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._timeout = timeout_s

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> tuple[bytes, Any]:
        """The body and headers of a 200 answer; :class:`ExportError` otherwise."""
        url = self.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        return self._send(urllib.request.Request(url, headers=self._headers))  # noqa: S310

    def post_json(self, path: str, doc: Any) -> Any:
        """POST ``doc`` as JSON; the JSON of a 200 answer, :class:`ExportError` otherwise (an
        admin change: the client is also the ``obsvty dead-letters`` command's)."""
        url = self.base_url + path
        headers = {**self._headers, "Content-Type": "application/json"}
        request = urllib.request.Request(url, json.dumps(doc).encode(), headers, method="POST")  # noqa: S310
        body, _ = self._send(request)
        try:
            return json.loads(body)
        except ValueError:
            raise ExportError(f"POST {url}: the answer is not JSON") from None

    def _send(self, request: urllib.request.Request) -> tuple[bytes, Any]:
        """Send ``request``: the body and headers of a 200 answer, :class:`ExportError` for an
        error answer or an unreachable API."""
        try:
            # B310: the base URL scheme is checked to be http or https in __init__
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310 # nosec B310
                return answer.read(), answer.headers
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise ExportError(
                f"{request.get_method()} {request.full_url} answered HTTP {exc.code}: {detail}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ExportError(
                f"cannot reach the obsvty query API at {self.base_url}: {reason} "
                "(is obsvty running? set --api-url)"
            ) from None

    def get_json(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        body, _ = self.get(path, params)
        try:
            return json.loads(body)
        except ValueError:
            raise ExportError(f"GET {self.base_url}{path}: the answer is not JSON") from None


def export(client: QueryApiClient, signal: Signal, since: int, until: int) -> Iterator[bytes]:
    """The OTLP/JSON export requests of ``signal`` in ``[since, until)``, one per item."""
    if signal is Signal.TRACES:
        return export_traces(client, since, until)
    if signal is Signal.LOGS:
        return export_logs(client, since, until)
    return export_metrics(client, since, until)


def _earliest_start(request: Any, since: int, until: int) -> int:
    """The earliest span start in ``[since, until)`` of an OTLP/JSON trace export request."""
    starts = [
        int(span["startTimeUnixNano"])
        for resource_spans in request.get("resourceSpans", ())
        for scope_spans in resource_spans.get("scopeSpans", ())
        for span in scope_spans.get("spans", ())
    ]
    in_range = [s for s in starts if since <= s < until]
    if not in_range:
        raise ExportError("a trace found in the time range has no span in it any more")
    return min(in_range)


def export_traces(
    client: QueryApiClient, since: int, until: int, page: int = TRACE_PAGE
) -> Iterator[bytes]:
    """Each trace with a span starting in ``[since, until)``, newest first, one request each.

    The search ranks a trace by its earliest span in the range (its key), newest first. The next
    page searches ``[since, last key + 1)``: traces ranked after the last one keep their key, the
    ones before it have no span left in the range, and those *at* the last key come again and
    are skipped by id (``at_key``)."""
    end = until
    last_key: int | None = None
    at_key: set[str] = set()
    while True:
        found = client.get_json(
            "/api/v1/traces", [("start", str(since)), ("end", str(end)), ("limit", str(page))]
        )["traces"]
        fresh = 0
        for hit in found:
            trace_id = hit["trace_id"]
            if trace_id in at_key:
                continue
            fresh += 1
            try:
                body, _ = client.get(f"/api/v1/traces/{trace_id}", [("format", "otlp-json")])
            except ExportError as exc:
                if "HTTP 404" in str(exc):  # deleted (retention) since the search: gone
                    continue
                raise
            start = int(hit["start_time_unix_nano"])
            key = start if start >= since else _earliest_start(json.loads(body), since, end)
            if key != last_key:
                last_key, at_key = key, set()
            at_key.add(trace_id)
            yield body
        if len(found) < page:
            return
        if not fresh or last_key is None:
            raise ExportError(
                f"{page} or more traces start at the same nanosecond ({last_key}): "
                "cannot page past them"
            )
        end = last_key + 1


def export_logs(
    client: QueryApiClient, since: int, until: int, page: int = LOG_PAGE
) -> Iterator[bytes]:
    """The log records in ``[since, until)``, newest first, ``page`` records per request."""
    cursor: str | None = None
    while True:
        params = [("start", str(since)), ("end", str(until)), ("limit", str(page))]
        params.append(("format", "otlp-json"))
        if cursor is not None:
            params.append(("cursor", cursor))
        body, headers = client.get("/api/v1/logs", params)
        if json.loads(body).get("resourceLogs"):
            yield body
        cursor = headers.get(_CURSOR_HEADER)
        if not cursor:
            return


def _point_count(request: Any) -> int:
    total = 0
    for resource_metrics in request.get("resourceMetrics", ()):
        for scope_metrics in resource_metrics.get("scopeMetrics", ()):
            for metric in scope_metrics.get("metrics", ()):
                for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                    if kind in metric:
                        total += len(metric[kind].get("dataPoints", ()))
    return total


def export_metrics(
    client: QueryApiClient, since: int, until: int, max_points: int = METRIC_POINTS_MAX
) -> Iterator[bytes]:
    """The data points in ``[since, until)`` (by point time), per metric name, oldest first."""
    names = sorted({m["name"] for m in client.get_json("/api/v1/metrics")["metrics"]})
    for name in names:
        path = f"/api/v1/metrics/{urllib.parse.quote(name, safe='')}/series"
        windows = [(since, until)]
        while windows:
            start, end = windows.pop()
            body, _ = client.get(
                path, [("start", str(start)), ("end", str(end)), ("format", "otlp-json")]
            )
            count = _point_count(json.loads(body))
            if count >= max_points and end - start > 1:
                middle = start + (end - start) // 2
                windows += [(middle, end), (start, middle)]  # the older half is popped first
                continue
            if count:
                yield body
