"""The cost of privacy redaction on the ingest path, in one process, without any network.

Realistic trace requests (``bench.payloads``: HTTP and DB spans, ~10 attributes each) are decoded
into columnar batches once; then each rule set is applied to fresh copies of them and timed:

    .venv/bin/python -m bench.redaction --requests 200

Compared with the decode (``to_domain``) cost of the same spans, which every request pays anyway.
With no rule configured obsvty builds no redactor at all: zero cost.
"""

from __future__ import annotations

import argparse
import copy
import time

from bench.payloads import PayloadFactory
from obsvty.adapters.otlp.codec import TRACES
from obsvty.adapters.redaction_rules import build_policy
from obsvty.application.redaction import Redactor
from obsvty.domain.batches import SpanBatch

_PII = ("jane.doe@corp.example", "10.1.2.3", "Bearer eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl")


def _with_pii(batch: SpanBatch, every: int) -> None:
    """Put a PII value into one attribute of every ``every``-th span, as real traffic might."""
    for i in range(0, len(batch), every):
        attributes = dict(batch.attributes[i])
        attributes["enduser.id"] = _PII[i % len(_PII)]
        batch.attributes[i] = attributes


def run(requests: int, spans_per_request: int, pii_every: int) -> None:
    factory = PayloadFactory(spans_per_request)
    messages = [TRACES.parse_protobuf(factory.payload(n)) for n in range(requests)]
    t0 = time.perf_counter()
    batches = [TRACES.to_domain(m).batch for m in messages]
    decode = time.perf_counter() - t0
    for b in batches:
        _with_pii(b, pii_every)  # type: ignore[arg-type]
    spans = sum(len(b) for b in batches)

    def line(label: str, seconds: float) -> str:
        per_span = seconds / spans * 1e6
        share = seconds / decode * 100
        return f"  {label:<34} {per_span:6.2f} us/span {spans / seconds:12,.0f} spans/s  " + (
            f"{share:4.0f}% of decode"
        )

    print(f"{requests} requests x {spans_per_request} spans, PII in 1 of {pii_every} spans")
    print(line("decode (to_domain), for scale", decode))
    rule_sets = {
        "drop 3 keys": build_policy(drop_keys=["*password*", "*secret*", "http.request.header.*"]),
        "defaults (mask)": build_policy(defaults=True),
        "defaults (hash e-mail, IPs)": build_policy(defaults=True, hash_key="bench-key"),
    }
    for label, policy in rule_sets.items():
        assert policy is not None
        redactor = Redactor(policy)
        work = copy.deepcopy(batches)  # redaction changes batches in place
        t = time.perf_counter()
        for b in work:
            redactor.apply(b)
        elapsed = time.perf_counter() - t
        print(line(label, elapsed) + f"  ({sum(redactor.totals().values())} redactions)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--spans-per-request", type=int, default=100)
    parser.add_argument("--pii-every", type=int, default=10)
    args = parser.parse_args()
    run(args.requests, args.spans_per_request, args.pii_every)


if __name__ == "__main__":
    main()
