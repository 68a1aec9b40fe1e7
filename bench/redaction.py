"""The cost of privacy redaction on the ingest path, per item, in one process, without network:
decode + redaction + the store's Arrow table, on both decoders, against the same without rules.

    .venv/bin/python -m bench.redaction                         # traces, 100 spans per request
    .venv/bin/python -m bench.redaction --signal logs --pii-every 5

Realistic requests (``bench.payloads``) get a PII attribute on one item in ``--pii-every`` (an
e-mail address, an IP address or a bearer token) and a ``db.password`` attribute on one in
``2 * --pii-every``, in the protobuf payload, so both decoders see them. Each line is the thread
CPU time per item (as ``bench.decode`` measures it) of:

* ``native``: the compiled decoder's Arrow batch, redacted on its columns;
* ``reference``: the reference decoder's list-based batch, redacted, then turned into the store's
  Arrow table (``duckdb.tables.span_table``...), the path every request took under redaction
  before Arrow batches could be redacted.

With no rule configured obsvty builds no redactor at all: the ``no rules`` line is the decode.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf.message import Message
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from bench.decode import _table, per_item_us
from bench.payloads import SIGNALS, factory_for
from obsvty.adapters.encoding.typed_json import dumps
from obsvty.adapters.otlp.codec import CODECS
from obsvty.adapters.redaction_rules import build_policy
from obsvty.application.redaction import Redactor
from obsvty.domain.model import Signal
from obsvty.domain.redaction import RedactionPolicy

_PII = ("jane.doe@corp.example", "10.1.2.3", "Bearer eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl")


def _items(request: Any) -> Iterator[Any]:
    """The spans, log records or data points of a request (each has ``attributes``)."""
    for resource in getattr(request, "resource_spans", None) or ():
        for scope in resource.scope_spans:
            yield from scope.spans
    for resource in getattr(request, "resource_logs", None) or ():
        for scope in resource.scope_logs:
            yield from scope.log_records
    for resource in getattr(request, "resource_metrics", None) or ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    yield from getattr(metric, kind).data_points


def with_pii(payload: bytes, signal: Signal, every: int) -> bytes:
    """``payload`` with a PII value on one item in ``every`` and a password on one in
    ``2 * every``, as real traffic might carry."""
    request: Message = CODECS[signal].request_type.FromString(payload)
    for i, item in enumerate(_items(request)):
        if i % every == 0:
            value = AnyValue(string_value=_PII[(i // every) % len(_PII)])
            item.attributes.append(KeyValue(key="enduser.id", value=value))
        if i % (2 * every) == 0:
            item.attributes.append(
                KeyValue(key="db.password", value=AnyValue(string_value="hunter2"))
            )
    return request.SerializeToString()


def rule_sets() -> dict[str, RedactionPolicy | None]:
    return {
        "no rules": None,
        "key rule + e-mail": build_policy(drop_keys=["*password*"], patterns=["email"]),
        "defaults (mask)": build_policy(defaults=True),
        "defaults (hash e-mail, IPs)": build_policy(defaults=True, hash_key="bench-key"),
    }


def measure(
    signal: str,
    items: int,
    pii_every: int,
    *,
    requests: int = 4,
    rounds: int = 5,
    seconds: float = 1.0,
) -> dict[str, dict[str, float]]:
    """Microseconds of thread CPU per item, by rule set, for ``native`` and ``reference``."""
    sig = Signal(signal)
    factory = factory_for(signal, items)  # type: ignore[arg-type]
    bodies = [with_pii(factory.payload(n), sig, pii_every) for n in range(requests)]
    codec = CODECS[sig]
    paths = {"native": (codec, dumps), "reference": (codec.reference(), None)}
    total = items * len(bodies)
    out: dict[str, dict[str, float]] = {}
    for label, policy in rule_sets().items():
        row: dict[str, float] = {}
        for path, (c, typed_json) in paths.items():
            redactor = None if policy is None else Redactor(policy, typed_json)
            run = _decode_and_redact(c, bodies, redactor)
            row[path] = per_item_us(run, total, rounds, seconds)
        out[label] = row
    return out


def _decode_and_redact(
    codec: Any, bodies: list[bytes], redactor: Redactor | None
) -> Callable[[], object]:
    def run() -> object:
        tables = []
        for body in bodies:
            batch = codec.decode_protobuf(body).batch
            if redactor is not None:
                redactor.apply(batch)
            tables.append(_table(batch))
        return tables

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--signal", choices=SIGNALS, default="traces")
    parser.add_argument("--items", type=int, default=100, help="items per request")
    parser.add_argument("--pii-every", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="per line and path")
    args = parser.parse_args(argv)
    result = measure(
        args.signal, args.items, args.pii_every, rounds=args.rounds, seconds=args.seconds
    )
    print(
        f"{args.signal}, {args.items} items per request, PII in 1 of {args.pii_every}, "
        "thread CPU per item (decode + redaction + store table):"
    )
    base = result["no rules"]
    for label, row in result.items():
        extra = {p: row[p] - base[p] for p in ("native", "reference")}
        line = f"  {label:<28} native {row['native']:7.2f} us  reference {row['reference']:7.2f} us"
        if label != "no rules":
            line += f"   redaction: native +{extra['native']:.2f} us, reference +"
            line += f"{extra['reference']:.2f} us"
        print(line)
    native, reference = result["defaults (mask)"]["native"], result["defaults (mask)"]["reference"]
    if not math.isnan(native):
        print(f"  defaults (mask), reference / native: {reference / native:.1f}x")


if __name__ == "__main__":
    main()
