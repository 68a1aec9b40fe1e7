"""The cloud sync's records (``ports.sync.SyncRecord``): the MongoDB side turns a stored document
into a record and back into the same BSON bytes, keys are deterministic, and a dead letter keeps
a record exactly."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import bson
import pytest

from obsvty.adapters.encoding.sync_records import record_from_text, record_text, sync_record
from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.ports.sync import SyncRecord
from tests.support.mongodb_data import log_batch, metric_batch, span_batch

pytestmark = pytest.mark.unit


def _metrics_with_big_counts() -> Any:
    batch = metric_batch()
    batch.bucket_counts[2] = [1, 2**63, 1]
    batch.count[3] = 2**64 - 1
    return batch


CASES: list[tuple[str, Callable[[], Iterator[docs.Document]]]] = [
    (docs.SPANS, lambda: docs.span_documents(span_batch(3))),
    (docs.LOGS, lambda: docs.log_documents(log_batch(3))),
    (docs.METRIC_POINTS, lambda: docs.metric_documents(_metrics_with_big_counts())),
]


@pytest.mark.parametrize(("collection", "documents"), CASES, ids=[c for c, _ in CASES])
def test_document_from_record_of_a_stored_document_is_byte_identical(
    collection: str, documents: Callable[[], Iterator[docs.Document]]
) -> None:
    # Arrange: documents as stored (read back from BSON, with the store's ingest_id)
    stored = [bson.decode(bson.encode({**d, docs.INGEST_ID: bson.ObjectId()})) for d in documents()]

    # Act
    rebuilt = [
        docs.document_from_record(collection, docs.record_from_document(collection, d))
        for d in stored
    ]

    # Assert
    expected = [bson.encode(d) for d in documents()]
    assert [bson.encode(d) for d in rebuilt] == expected


def test_sync_record_same_fields_same_key_span_keyed_by_ids() -> None:
    # Arrange
    fields = {"trace_id": "ab" * 16, "span_id": "cd" * 8, "name": "x"}

    # Act
    span = sync_record(docs.SPANS, fields)
    log_once, log_again = sync_record(docs.LOGS, {"body": 1}), sync_record(docs.LOGS, {"body": 1})
    other = sync_record(docs.LOGS, {"body": 1.0})

    # Assert
    assert span.key == "ab" * 16 + "cd" * 8
    assert log_once.key == log_again.key != other.key
    assert len(log_once.key) == 24


def test_record_text_round_trip_keeps_bytes_non_finite_doubles_and_uint64() -> None:
    # Arrange
    record = SyncRecord(
        "k", {"raw": b"\x00\xff", "d": [math.inf, -math.inf, 1.0, 1], "count": 2**64 - 1}
    )

    # Act
    back = record_from_text(record_text(record))

    # Assert
    assert back == record
    assert isinstance(back.fields["d"][2], float)
    assert isinstance(back.fields["d"][3], int)
    nan = record_from_text(record_text(SyncRecord("n", {"v": math.nan}))).fields["v"]
    assert math.isnan(nan)
