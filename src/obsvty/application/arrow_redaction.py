"""Redaction of the compiled decoder's Arrow batches: the rules, the stored result and the counts
of the list-based batches' redaction (:mod:`obsvty.application.redaction`), without a Python
object per row for the rows no rule can touch.

Per batch, every text a rule could change is found by one RE2 pass over the typed JSON columns
and one over the plain text columns (:mod:`obsvty.application.redaction_prefilter`). Only those
rows are decoded (orjson), redacted by the policy's own functions, re-encoded by the store's
typed JSON encoder (which the compiled decoder matches byte for byte) and put back. Resource and
scope attributes are dictionary columns with one entry per resource (or scope) of the request:
each is redacted once, and its redactions counted only when a row refers to it, as the list-based
batches count each resource object their rows share (entries no row refers to are redacted too,
uncounted, so nothing unredacted is kept).

Typed JSON cannot tell bytes from a map whose only key is ``$bytes`` (both are
``{"$bytes": "<base64>"}``); such an object is read as bytes when its text is base64 as the
encoder writes it, else as a map.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from obsvty.application.redaction_prefilter import Prefilters
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.model import (
    SERVICE_NAME_KEY,
    UNKNOWN_SERVICE,
    Attributes,
    AttributeValue,
    Signal,
)
from obsvty.domain.redaction import RedactionPolicy

Dumps = Callable[[Any], str]
"""The typed JSON encoder (``obsvty.adapters.encoding.typed_json.dumps``)."""

_STR = pa.string()
_BYTES_KEY = "$bytes"
_SHARED = ("resource_attributes", "scope_attributes")


def _bytes(text: Any) -> bytes | None:
    """The bytes ``text`` is the base64 of, as the encoder writes it; ``None`` for other text."""
    if type(text) is not str:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return raw if base64.b64encode(raw).decode() == text else None


def _revive(value: Any) -> AttributeValue:
    """A typed JSON value (as orjson reads it) as the attribute value it was encoded from."""
    kind = type(value)
    if kind is dict:
        if len(value) == 1 and _BYTES_KEY in value:
            raw = _bytes(value[_BYTES_KEY])
            if raw is not None:
                return raw
        return {k: _revive(v) for k, v in value.items()}
    if kind is list:
        return [_revive(v) for v in value]
    return value  # type: ignore[no-any-return]


def _revive_map(value: dict[str, Any]) -> Attributes:
    """Attributes (a map, never bytes, at the top) as they were encoded."""
    return {k: _revive(v) for k, v in value.items()}


def _loads_attributes(document: str) -> Attributes:
    """Attributes from their typed JSON (as they were encoded)."""
    value = orjson.loads(document)
    return _revive_map(value) if _BYTES_KEY in document else value


_Redact = Callable[[str], str]


class ArrowRedaction:
    """Applies a policy to Arrow batches, changing ``batch.table``; counts go to
    ``policy.counts`` as the policy's own functions count (one batch at a time)."""

    def __init__(self, policy: RedactionPolicy, dumps: Dumps) -> None:
        self._policy = policy
        self._dumps = dumps
        self._filters = Prefilters(policy)
        self._json_columns: dict[Signal, dict[str, _Redact]] = {
            Signal.TRACES: {
                "attributes": self._attributes,
                "events": self._events,
                "links": self._links,
            },
            Signal.LOGS: {"body": self._body, "attributes": self._attributes},
            Signal.METRICS: {"attributes": self._attributes, "exemplars": self._exemplars},
        }
        text = policy.text
        self._text_columns: dict[Signal, dict[str, _Redact]] = {
            Signal.TRACES: {"name": text, "status_message": lambda m: text(m) if m else m}
            if policy.pattern_rules
            else {},
            Signal.LOGS: {},
            Signal.METRICS: {},
        }

    # --- the values of one row, as the list-based redaction treats them -------------------------

    def _attributes(self, document: str) -> str:
        return self._dumps(self._policy.attributes(_loads_attributes(document)))

    def _events(self, document: str) -> str:
        p = self._policy
        events = orjson.loads(document)
        revive = _BYTES_KEY in document
        for e in events:
            e["name"] = p.text(e["name"])
            attributes = e["attributes"]
            e["attributes"] = p.attributes(_revive_map(attributes) if revive else attributes)
        return self._dumps(events)

    def _links(self, document: str) -> str:
        return self._nested(document, "attributes")

    def _exemplars(self, document: str) -> str:
        return self._nested(document, "filtered_attributes")

    def _nested(self, document: str, field: str) -> str:
        """A list of records (links, exemplars) whose ``field`` is attributes."""
        p = self._policy
        records = orjson.loads(document)
        revive = _BYTES_KEY in document
        for record in records:
            attributes = record[field]
            record[field] = p.attributes(_revive_map(attributes) if revive else attributes)
        return self._dumps(records)

    def _body(self, document: str) -> str:
        value = orjson.loads(document)
        return self._dumps(self._policy.value(_revive(value) if _BYTES_KEY in document else value))

    # --- the batch ------------------------------------------------------------------------------

    def apply(self, batch: ArrowBatch) -> None:
        table = batch.table
        if not table.num_rows:
            return
        # (column, chunk index, the strings to look at, how to redact one of them)
        json_jobs = [
            (name, k, chunk, redact)
            for name, redact in self._json_columns[batch.signal].items()
            for k, chunk in enumerate(table.column(name).chunks)
        ]
        json_jobs += [
            (name, k, chunk.dictionary, self._attributes)
            for name in _SHARED
            for k, chunk in enumerate(table.column(name).chunks)
        ]
        text_jobs = [
            (name, k, chunk, redact)
            for name, redact in self._text_columns[batch.signal].items()
            for k, chunk in enumerate(table.column(name).chunks)
        ]
        changed: dict[str, list[Any]] = {}
        for jobs, json in ((json_jobs, True), (text_jobs, False)):
            positions = self._candidates([j[2] for j in jobs], json=json)
            start = 0
            for name, k, values, redact in jobs:
                end = start + len(values)
                rows = [p - start for p in positions if start <= p < end]
                start = end
                if not rows:
                    continue
                chunks = changed.setdefault(name, list(table.column(name).chunks))
                if name in _SHARED:
                    chunks[k] = self._shared(chunks[k], rows)
                else:
                    redacted = [redact(v) for v in values.take(rows).to_pylist()]
                    chunks[k] = _replace(values, rows, redacted)
        if "resource_attributes" in changed:  # a resource's service name is one of its attributes
            changed["service_name"] = [
                _service_names(chunk) for chunk in changed["resource_attributes"]
            ]
        for name, chunks in changed.items():
            i = table.schema.get_field_index(name)
            field = table.schema.field(i)
            table = table.set_column(i, field, pa.chunked_array(chunks, field.type))
        batch.table = table

    def _candidates(self, arrays: list[pa.Array], *, json: bool) -> list[int]:
        """The positions, in the arrays one after the other, of the values a rule could change
        (in order). Few Arrow calls: each costs more than scanning a request's text."""
        joined = pa.concat_arrays(arrays) if len(arrays) > 1 else arrays[0] if arrays else None
        if joined is None or not len(joined):
            return []
        f = self._filters
        if not json and f.every_text:
            valid = joined.is_valid().to_pylist()
            return [i for i, hit in enumerate(valid) if hit]
        data = joined.buffers()[2]  # (of a slice, more than its text: only more candidates)
        lowered = b"" if data is None else data.to_pybytes().lower()
        literals, regex = f.plan(json=json, ascii_only=lowered.isascii())
        found = set(_containing(joined, lowered, literals)) if literals else set()
        if regex is not None:
            hits = pc.match_substring_regex(pc.ascii_lower(joined), regex).to_pylist()
            found.update(i for i, hit in enumerate(hits) if hit)
        return sorted(found)

    def _shared(self, chunk: pa.DictionaryArray, rows: list[int]) -> pa.DictionaryArray:
        """The chunk with the given entries of its dictionary redacted, counting the ones rows
        refer to."""
        policy = self._policy
        referred = set(pc.unique(chunk.indices).to_pylist())
        values = chunk.dictionary
        redacted = []
        for i, document in zip(rows, values.take(rows).to_pylist(), strict=True):
            if i in referred:
                redacted.append(self._attributes(document))
            else:
                counts = dict(policy.counts)
                redacted.append(self._attributes(document))
                policy.counts = counts
        return pa.DictionaryArray.from_arrays(chunk.indices, _replace(values, rows, redacted))


def _containing(values: pa.Array, lowered: bytes, literals: tuple[bytes, ...]) -> Iterator[int]:
    """Positions of the values whose text (in ``lowered``, their data buffer lowered) contains
    one of ``literals``: a substring search per literal, skipping to the next value on a find."""
    first = values.offset
    offsets = memoryview(values.buffers()[1]).cast("i")[first : first + len(values) + 1]
    end = offsets[-1]
    for literal in literals:
        at = lowered.find(literal, offsets[0], end)
        while at >= 0:
            row = bisect.bisect_right(offsets, at) - 1
            yield row
            at = lowered.find(literal, offsets[row + 1], end)


def _replace(values: pa.Array, rows: list[int], new: list[str]) -> pa.Array:
    """``values`` with the value at each of ``rows`` (ascending) replaced by the next of ``new``."""
    mask = [False] * len(values)
    for i in rows:
        mask[i] = True
    return pc.replace_with_mask(values, pa.array(mask, pa.bool_()), pa.array(new, _STR))


def _service_names(resources: pa.DictionaryArray) -> pa.DictionaryArray:
    """The ``service_name`` column of rows with these (redacted) resource attributes: their
    ``service.name`` if a non-empty string, as ``Resource.service_name`` reads it."""
    names = []
    for document in resources.dictionary.to_pylist():
        name = orjson.loads(document).get(SERVICE_NAME_KEY)
        names.append(name if isinstance(name, str) and name else UNKNOWN_SERVICE)
    return pa.DictionaryArray.from_arrays(resources.indices, pa.array(names, _STR))
