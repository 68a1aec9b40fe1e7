"""Redaction on both ingest paths, reduced to what obsvty would store: the reference decoder's
list-based batch redacted and turned into the store's Arrow table, next to the compiled decoder's
Arrow batch redacted, each with the redactor's counts per rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from obsvty.adapters.encoding.typed_json import dumps
from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS
from obsvty.application.redaction import Redactor
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.model import Signal
from obsvty.domain.redaction import RedactionPolicy
from tests.support.decoders import _TABLES, comparable

Stored = tuple[list[dict[str, Any]], dict[str, int]]


def reference_stored(
    signal: Signal, payload: bytes, policy: RedactionPolicy, *, json: bool = False
) -> Stored:
    codec = CODECS[signal].reference()
    decoded = codec.decode_json(payload) if json else codec.decode_protobuf(payload)
    redactor = Redactor(policy)
    if len(decoded.batch):
        redactor.apply(decoded.batch)
    _, to_table = _TABLES[signal]
    return to_table(decoded.batch).to_pylist(), redactor.totals()


def native_stored(
    signal: Signal, payload: bytes, policy: RedactionPolicy, *, json: bool = False
) -> Stored | None:
    """``None`` when the compiled decoder leaves the request to the reference one."""
    decode = native.json_decoder(signal) if json else native.protobuf_decoder(signal)
    assert decode is not None, "the compiled decoder is not built"
    decoded = decode(payload)
    if decoded is None:
        return None
    assert isinstance(decoded.batch, ArrowBatch)
    redactor = Redactor(policy, dumps)
    if len(decoded.batch):
        redactor.apply(decoded.batch)
    decoded.batch.table.validate(full=True)
    return decoded.batch.table.to_pylist(), redactor.totals()


def assert_redacted_alike(
    signal: Signal,
    payload: bytes,
    policy: Callable[[], RedactionPolicy],
    *,
    json: bool = False,
    must_decode: bool = True,
) -> Stored | None:
    """Native decode + Arrow redaction stores the same rows, with the same counts, as reference
    decode + list redaction (``policy`` makes a fresh policy for each path)."""
    got = native_stored(signal, payload, policy(), json=json)
    if got is None:
        assert not must_decode, "left to the reference decoder"
        return None
    expected = reference_stored(signal, payload, policy(), json=json)
    rows, counts = got
    expected_rows, expected_counts = expected
    assert counts == expected_counts
    assert comparable(rows) == comparable(expected_rows)
    return got
