"""atheris fuzz targets for obsvty's decoders: ``python -m fuzz.decoders {protobuf|json|gzip}
[libFuzzer options]`` from the repository root (``make fuzz`` runs each for a few seconds).

Each input is decoded for every signal; the property is the one the hypothesis tests check
(tests/support/fuzzing.py): refused with a clear error, or decoded into whole, valid items.
Anything else (another exception, a half-added item) is a finding, saved under .fuzz/.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["obsvty"]):  # coverage-guided on obsvty's code only
    from obsvty.adapters.otlp import codec, http_receiver, to_domain
    from obsvty.domain import validation

from tests.support.fuzzing import (
    SEED_GZIP,
    SEED_JSON,
    SEED_PROTOBUF,
    decode_json,
    decode_protobuf,
    inflate,
)

from fuzz.run import fuzz

CODECS = codec.CODECS
INSTRUMENTED = (http_receiver, to_domain, validation)


def protobuf(data: bytes) -> None:
    for codec in CODECS.values():
        decode_protobuf(codec, data)


def json(data: bytes) -> None:
    for codec in CODECS.values():
        decode_json(codec, data)


def gzip(data: bytes) -> None:
    inflate(data, "gzip")
    inflate(data, "deflate")


TARGETS = {"protobuf": protobuf, "json": json, "gzip": gzip}
SEEDS = {
    "protobuf": list(SEED_PROTOBUF.values()),
    "json": list(SEED_JSON.values()),
    "gzip": [SEED_GZIP],
}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzz.decoders {{{'|'.join(TARGETS)}}} [libFuzzer options]")
    name = argv[1]
    fuzz(name, TARGETS[name], SEEDS[name], [argv[0], *argv[2:]])


if __name__ == "__main__":
    main(sys.argv)
