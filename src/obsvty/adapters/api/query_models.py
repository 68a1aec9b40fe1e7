"""The native query API's response models: what ``/docs`` shows for each answer.

The routes answer with documents the serialisers (``query_serialisers``) build, encoded with typed
JSON; these pydantic models describe those documents in the OpenAPI schema and are never built
per request.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    error: str = Field(examples=["bad_request"])
    parameter: str | None = Field(None, examples=["min_duration"])
    message: str


class ServicesOut(BaseModel):
    services: list[str] = Field(examples=[["checkout", "frontend"]])


class OperationOut(BaseModel):
    name: str = Field(examples=["GET /cart"])
    span_kind: str = Field(examples=["server"])


class OperationsOut(BaseModel):
    operations: list[OperationOut]


class TraceSummaryOut(BaseModel):
    trace_id: str = Field(examples=["0af7651916cd43dd8448eb211c80319c"])
    root_service: str = Field(examples=["frontend"])
    root_name: str = Field(examples=["GET /cart"])
    start_time_unix_nano: int = Field(examples=[1704880800000000000])
    duration_ns: int = Field(examples=[12500000])
    span_count: int = Field(examples=[7])
    error_count: int = Field(examples=[1])
    services: list[str] = Field(examples=[["checkout", "frontend"]])


class TracesOut(BaseModel):
    traces: list[TraceSummaryOut]


class DependencyOut(BaseModel):
    parent: str = Field(examples=["frontend"])
    child: str = Field(examples=["checkout"])
    call_count: int = Field(examples=[120])
    error_count: int = Field(examples=[3])


class DependenciesOut(BaseModel):
    dependencies: list[DependencyOut]


class ResourceOut(BaseModel):
    service_name: str
    attributes: dict[str, Any]
    dropped_attributes_count: int
    schema_url: str


class ScopeOut(BaseModel):
    name: str
    version: str
    attributes: dict[str, Any]
    dropped_attributes_count: int
    schema_url: str


class EventOut(BaseModel):
    time_unix_nano: int
    name: str
    attributes: dict[str, Any]
    dropped_attributes_count: int


class LinkOut(BaseModel):
    trace_id: str
    span_id: str
    trace_state: str
    attributes: dict[str, Any]
    dropped_attributes_count: int
    flags: int


class StatusOut(BaseModel):
    code: str = Field(examples=["error"])
    message: str


class SpanOut(BaseModel):
    trace_id: str
    span_id: str
    parent_span_id: str = Field(description="'' for a root span")
    name: str
    kind: str = Field(examples=["server"])
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    trace_state: str
    flags: int
    status: StatusOut
    attributes: dict[str, Any] = Field(examples=[{"http.status_code": 200, "ratio": 0.5}])
    dropped_attributes_count: int
    events: list[EventOut]
    dropped_events_count: int
    links: list[LinkOut]
    dropped_links_count: int
    resource: ResourceOut
    scope: ScopeOut


class TraceOut(BaseModel):
    trace_id: str
    spans: list[SpanOut]


class LogOut(BaseModel):
    time_unix_nano: int
    observed_time_unix_nano: int
    severity_number: int = Field(examples=[17])
    severity_text: str = Field(examples=["ERROR"])
    body: Any = Field(examples=["payment failed"])
    attributes: dict[str, Any]
    dropped_attributes_count: int
    flags: int
    trace_id: str
    span_id: str
    event_name: str
    resource: ResourceOut
    scope: ScopeOut


class LogsOut(BaseModel):
    records: list[LogOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class MetricOut(BaseModel):
    name: str = Field(examples=["http.server.duration"])
    type: str = Field(examples=["histogram"])
    unit: str = Field(examples=["ms"])
    description: str
    services: list[str]


class MetricsOut(BaseModel):
    metrics: list[MetricOut]


class SampleOut(BaseModel):
    time_unix_nano: int
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    percentiles: dict[str, float | None] = Field(default_factory=dict, examples=[{"p99": 41.5}])


class SeriesScopeOut(BaseModel):
    name: str
    version: str


class SeriesOut(BaseModel):
    service: str
    attributes: dict[str, Any]
    resource: dict[str, Any] = Field(
        description="The resource's attributes: series of two processes of one service differ here"
    )
    scope: SeriesScopeOut
    start_time_unix_nano: int | None = Field(
        description="When the series' first point started counting (null: unknown, or a "
        "gauge): tells apart processes alike in resource and attributes"
    )
    samples: list[SampleOut] = Field(
        description="Time-ordered. A sample with value, count and sum all null is a break: no "
        "data between its neighbours (a restart, a reset, a pause), a chart does not join them."
    )


class MetricSeriesOut(BaseModel):
    name: str
    type: str
    unit: str
    description: str
    mode: str
    step_ns: int | None
    truncated: bool = Field(description="true when more points matched than one answer holds")
    series: list[SeriesOut]


class SignalStatsOut(BaseModel):
    items: Literal["spans", "log_records", "data_points"] = Field(
        description="What count counts: spans (for traces), log records or metric data points."
    )
    count: int = Field(description="Items stored: for traces, spans (not traces).")
    oldest_unix_nano: int | None
    newest_unix_nano: int | None


class RetentionOut(BaseModel):
    enabled: bool
    max_age_seconds: float | None = Field(description="OBSVTY_RETENTION; null: no age limit.")
    max_bytes: int | None = Field(description="OBSVTY_MAX_DB_SIZE; null: no size limit.")
    used_bytes: int | None = Field(description="Bytes in use at the last pass.")
    runs: int = Field(description="Passes since start.")
    last_run_unix: float | None
    last_duration_seconds: float | None
    last_error: str | None = Field(description="Why the last pass failed; null when it did not.")
    deleted_rows: dict[str, int] = Field(description="Rows deleted since start, by table.")


class StatsOut(BaseModel):
    signals: dict[str, SignalStatsOut]
    size_bytes: int | None
    retention: RetentionOut | None = Field(
        None, description="The retention policy and its passes; null when retention is off."
    )
    cloud_sync: dict[str, Any] | None = Field(
        None, description="With a cloud sync: its breaker, backlog and dead-letter count."
    )
