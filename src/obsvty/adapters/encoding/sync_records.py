"""The cloud sync's records (:class:`~obsvty.ports.sync.SyncRecord`) as every source makes them:
the deterministic key, and the text a dead letter keeps a record in."""

from __future__ import annotations

import hashlib

import orjson

from obsvty.adapters.encoding import typed_json
from obsvty.adapters.encoding.typed_json import dumps_exact, loads_exact
from obsvty.ports.sync import SPANS, Fields, SyncRecord


def sync_record(collection: str, fields: Fields) -> SyncRecord:
    """The record of ``fields``: a span keyed by its ids, another record by a 12-byte digest of
    its fields as typed JSON (the same fields, the same key; NaN and null digest alike, which
    costs nothing but a shared key between two records that differ only there)."""
    if collection == SPANS:
        return SyncRecord(fields["trace_id"] + fields["span_id"], fields)
    digest = hashlib.blake2b(orjson.dumps(fields, default=typed_json.default), digest_size=12)
    return SyncRecord(digest.hexdigest(), fields)


def record_text(record: SyncRecord) -> str:
    """A record as exact typed JSON (bytes, NaN and infinities included)."""
    return dumps_exact({"key": record.key, "fields": record.fields})


def legacy_record(letter_id: str, document: Fields) -> SyncRecord:
    """The record of a dead letter ``<collection>:<key>`` that a version before sync records
    kept as the cloud document itself: it is sent again as it is."""
    return SyncRecord(letter_id.split(":", 1)[1], document, cloud_document=document)


def record_from_text(text: str) -> SyncRecord:
    value = loads_exact(text)
    return SyncRecord(value["key"], value["fields"])
