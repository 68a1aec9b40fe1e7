"""Use case: redact a batch before it is buffered, so nothing unredacted is stored or sent on.

Covers span names, status messages, attributes, event names and attributes, link attributes,
log bodies and attributes, metric point and exemplar attributes, and resource and scope
attributes (each distinct resource or scope object once per batch). Metric names, ids and times
are left alone. A batch is changed in place; shared records (resources, scopes, events, links,
exemplars) are replaced, never mutated. The compiled decoder's Arrow batches get the same rules,
result and counts (:mod:`obsvty.application.arrow_redaction`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from obsvty.application.arrow_redaction import ArrowRedaction, Dumps
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import Batch, ListBatch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import InstrumentationScope, Resource
from obsvty.domain.redaction import RedactionPolicy

_T = TypeVar("_T")


class Redactor:
    """Applies a :class:`RedactionPolicy` to batches, from any number of receiver threads, and
    keeps the running count of redactions per rule."""

    def __init__(self, policy: RedactionPolicy, typed_json: Dumps | None = None) -> None:
        """``typed_json``: the store's typed JSON encoder, which Arrow batches need (without it
        only list-based batches can be redacted)."""
        self._policy = policy
        self._lock = threading.Lock()
        self._totals: dict[str, int] = {}
        self._arrow = None if typed_json is None else ArrowRedaction(policy, typed_json)

    def totals(self) -> dict[str, int]:
        with self._lock:
            return dict(self._totals)

    def apply(self, batch: Batch) -> None:
        arrow = self._arrow
        if isinstance(batch, ArrowBatch) and arrow is None:
            raise TypeError("Arrow batches need a redactor given the typed JSON encoder")
        # the policy's cache and counts are not thread-safe, and Python runs one thread at a time
        # anyway: one redaction at a time costs nothing in throughput
        with self._lock:
            policy = self._policy
            policy.counts = {}
            if isinstance(batch, ArrowBatch):
                arrow.apply(batch)  # type: ignore[union-attr]  # checked above
            else:
                if isinstance(batch, SpanBatch):
                    self._spans(batch)
                elif isinstance(batch, LogBatch):
                    self._logs(batch)
                else:
                    self._metrics(batch)
                self._shared(batch)
            for rule, n in policy.counts.items():
                self._totals[rule] = self._totals.get(rule, 0) + n

    def _spans(self, b: SpanBatch) -> None:
        p = self._policy
        b.name = [p.text(n) for n in b.name]
        b.status_message = [p.text(m) if m else m for m in b.status_message]
        b.attributes = [p.attributes(a) for a in b.attributes]
        b.events = [
            [_replace(e, name=p.text(e.name), attributes=p.attributes(e.attributes)) for e in ev]
            if ev
            else ev
            for ev in b.events
        ]
        b.links = [
            [_replace(k, attributes=p.attributes(k.attributes)) for k in links] if links else links
            for links in b.links
        ]

    def _logs(self, b: LogBatch) -> None:
        p = self._policy
        b.body = [p.value(v) for v in b.body]
        b.attributes = [p.attributes(a) for a in b.attributes]

    def _metrics(self, b: MetricBatch) -> None:
        p = self._policy
        b.attributes = [p.attributes(a) for a in b.attributes]
        b.exemplars = [
            [_replace(x, filtered_attributes=p.attributes(x.filtered_attributes)) for x in ex]
            if ex
            else ex
            for ex in b.exemplars
        ]

    def _shared(self, b: ListBatch) -> None:
        p = self._policy
        b.resource = _once(b.resource, lambda r: _replace(r, attributes=p.attributes(r.attributes)))
        b.scope = _once(b.scope, lambda s: _replace(s, attributes=p.attributes(s.attributes)))


def _replace(record: _T, **changes: Any) -> _T:
    """``record`` with ``changes``, or ``record`` itself when every change is the same object."""
    if all(getattr(record, k) is v for k, v in changes.items()):
        return record
    return dataclasses.replace(record, **changes)  # type: ignore[type-var]


_Shared = TypeVar("_Shared", Resource, InstrumentationScope)


def _once(items: list[_Shared], redact: Callable[[_Shared], _Shared]) -> list[_Shared]:
    done: dict[int, _Shared] = {}
    out = []
    for item in items:
        key = id(item)
        new = done.get(key)
        if new is None:
            new = done[key] = redact(item)
        out.append(new)
    return out
