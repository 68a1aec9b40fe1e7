from __future__ import annotations

import httpx
import pytest

from tests.support.server import RunningObsvty

pytestmark = pytest.mark.integration


def test_http_receiver_official_trace_example_is_stored(
    obsvty: RunningObsvty, otlp_examples
) -> None:
    # Arrange
    body = (otlp_examples / "trace.json").read_bytes()

    # Act
    response = httpx.post(
        f"{obsvty.http_url}/v1/traces", content=body, headers={"Content-Type": "application/json"}
    )
    obsvty.flush()

    # Assert
    assert response.status_code == 200
    assert response.json() == {}
    rows = obsvty.app.store.cursor().execute("SELECT trace_id, span_id, name FROM spans").fetchall()
    assert rows == [("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "I'm a server span")]
