"""The store's disk fills up under a running obsvty (a file-size limit put on the process, so every
write that would grow the DuckDB file or its WAL fails with EFBIG), then the space comes back:
obsvty never exits, answers retryably while it cannot take more, and stores everything it
acknowledged once the fault clears."""

from __future__ import annotations

import resource
from pathlib import Path

import duckdb
import httpx
import psutil
import pytest

from tests.support.reliability import (
    PROTOBUF,
    SPANS_PER_REQUEST,
    otlp_span_request,
    span_id_of,
    wait_until,
)
from tests.support.subprocess_server import ObsvtyProcess, obsvty_process

pytestmark = pytest.mark.e2e


def _store_pids(server: ObsvtyProcess) -> list[int]:
    """The server and its children: the DuckDB store writes its file in a process of its own."""
    parent = psutil.Process(server.pid)
    return [parent.pid, *(child.pid for child in parent.children(recursive=True))]


def _fill_disk(server: ObsvtyProcess) -> None:
    for pid in _store_pids(server):
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))


def _free_disk(server: ObsvtyProcess) -> None:
    unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    for pid in _store_pids(server):
        resource.prlimit(pid, resource.RLIMIT_FSIZE, unlimited)


@pytest.mark.parametrize(
    "settings",
    [
        {"ack_mode": "buffered", "buffer_overflow_policy": "reject"},
        {"ack_mode": "durable", "durable_ack_timeout_s": 1},
    ],
    ids=["buffered-reject", "durable"],
)
def test_store_disk_full_then_freed_server_stays_up_and_stores_every_acked_span(
    tmp_path: Path, settings: dict[str, object]
) -> None:
    # Arrange
    db_path = tmp_path / "faults.duckdb"
    acked: list[int] = []
    statuses: list[int] = []
    with obsvty_process(
        db_path, max_buffer_size=500, flush_interval_ms=50, log_level="WARNING", **settings
    ) as server:
        client = httpx.Client(base_url=server.http_url, headers=PROTOBUF, timeout=30)
        assert client.post("/v1/traces", content=otlp_span_request(0)).status_code == 200
        acked.append(0)
        _fill_disk(server)

        # Act: keep sending while the disk is full, until obsvty refuses
        first = SPANS_PER_REQUEST
        while statuses.count(503) < 3:
            response = client.post("/v1/traces", content=otlp_span_request(first))
            statuses.append(response.status_code)
            if response.status_code == 200:
                acked.append(first)
            else:
                assert response.status_code == 503
                assert response.headers["Retry-After"]
            first += SPANS_PER_REQUEST
            assert server.running()
            assert len(statuses) < 100, "obsvty never refused while its store was failing"
        # the refusals come from the failing store (the flusher may log its first failure
        # just after the buffer filled up)
        assert wait_until(lambda: "store write failed" in server.log_text())
        _free_disk(server)
        # the refused requests, re-sent as an SDK would, now go through
        assert wait_until(
            lambda: client.post("/v1/traces", content=otlp_span_request(first)).status_code == 200
        )
        acked.append(first)
        assert server.running()
        exit_code = server.stop()

    # Assert
    assert exit_code == 0
    con = duckdb.connect(str(db_path))
    stored = con.execute("SELECT span_id, count(*) FROM spans GROUP BY span_id").fetchall()
    con.close()
    counts = dict(stored)
    for request_first in acked:
        for n in range(request_first, request_first + SPANS_PER_REQUEST):
            assert counts.get(span_id_of(n).hex()) == 1
    assert set(counts.values()) == {1}
