"""The compiled OTLP decoder (``obsvty._native``): export request bytes into Arrow columns.

It decodes a request into the stored row form (:mod:`obsvty.domain.arrow_batch`) in one pass
with Python's GIL released, applying the same validation rules, with the same reasons, as the
reference decoder (:mod:`obsvty.adapters.otlp.to_domain`). A request whose shape it leaves to the
reference (malformed bytes, a repeated attribute key, protobuf merges of repeated singular
messages, deep nesting) makes it answer ``None``, and the caller decodes it the reference way, so
what is stored never depends on which decoder ran (``tests/unit/test_native_decoder.py`` and
``test_native_decoder_logs.py`` hold them to that). Traces and logs are decoded this way.

Set ``OBSVTY_NO_EXTENSIONS`` (to anything but empty) to run without the extension, as on a
machine where it could not be built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pyarrow as pa

from obsvty.adapters import extension
from obsvty.application.ingest import DecodedRequest
from obsvty.domain.arrow_batch import DOCUMENT_FORM, SCHEMAS, ArrowBatch
from obsvty.domain.model import Signal

_NATIVE = extension.load()

AVAILABLE = _NATIVE is not None
"""Whether the compiled decoder is in use."""


def _decoder(
    signal: Signal, decode: Callable[[bytes, bool], object], document_form: bool
) -> Callable[[bytes], DecodedRequest | None]:
    schema = SCHEMAS[signal]
    if document_form:
        schema = schema.with_metadata(DOCUMENT_FORM)
    import_batch = pa.RecordBatch._import_from_c

    def decode_request(payload: bytes) -> DecodedRequest | None:
        out = decode(payload, document_form)
        if isinstance(out, str):  # left to the reference decoder
            return None
        holder, address, rejected, first_error = cast(tuple[Any, int, int, str], out)
        batch = import_batch(address, schema)
        del holder  # the array's memory now belongs to ``batch``
        table = pa.Table.from_batches([batch])
        return DecodedRequest(ArrowBatch(signal, table), rejected, first_error)

    return decode_request


_PROTOBUF = {
    Signal.TRACES: "decode_traces",
    Signal.LOGS: "decode_logs",
    Signal.METRICS: "decode_metrics",
}


def protobuf_decoder(
    signal: Signal, *, document_form: bool = False
) -> Callable[[bytes], DecodedRequest | None] | None:
    """The compiled protobuf decoder of ``signal``, ``None`` when there is none;
    ``document_form``: its batches' JSON columns in the MongoDB store's lossless form
    (``arrow_batch.DOCUMENT_FORM``)."""
    name = _PROTOBUF.get(signal)
    if _NATIVE is None or name is None:
        return None
    return _decoder(signal, getattr(_NATIVE, name), document_form)


_JSON = {
    Signal.TRACES: "decode_traces_json",
    Signal.LOGS: "decode_logs_json",
    Signal.METRICS: "decode_metrics_json",
}


def json_decoder(
    signal: Signal, *, document_form: bool = False
) -> Callable[[bytes], DecodedRequest | None] | None:
    """The compiled OTLP/JSON decoder of ``signal``, ``None`` when there is none. It reads the
    canonical form of OTLP/JSON (see ``_native/otlp_json.h``); other documents answer ``None``.
    ``document_form`` as for :func:`protobuf_decoder`."""
    name = _JSON.get(signal)
    if _NATIVE is None or name is None:
        return None
    return _decoder(signal, getattr(_NATIVE, name), document_form)
