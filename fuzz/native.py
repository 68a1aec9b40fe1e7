"""atheris fuzz targets for the compiled decoders (``obsvty._native``), one per decoder function:
``python -m fuzz.native decode_metrics [libFuzzer options]``; ``--list`` names them.

``make fuzz-native`` builds the extension with clang, AddressSanitizer, UndefinedBehaviorSanitizer
and libFuzzer's coverage counters into ``.fuzz/native/``, then runs this for every decoder with
the sanitizer runtime preloaded (``OBSVTY_NATIVE_PATH`` names the sanitizer build; without it the
installed extension is fuzzed, uninstrumented). The sanitizers turn any out-of-bounds access,
use after free or undefined behaviour into a crash; the property checked on top: each input is
either left to the reference decoder (a str) or decoded into a record batch of the signal's
schema that Arrow validates in full (offsets, dictionary indices, UTF-8).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import atheris
import pyarrow as pa

from obsvty.domain.arrow_batch import SCHEMAS
from obsvty.domain.model import Signal


def _load() -> ModuleType:
    path = os.environ.get("OBSVTY_NATIVE_PATH")
    if not path:
        from obsvty import _native

        return _native
    loader = importlib.machinery.ExtensionFileLoader("obsvty._native", path)
    spec = importlib.util.spec_from_file_location("obsvty._native", path, loader=loader)
    if spec is None:
        sys.exit(f"not an extension module: {path}")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


NATIVE = _load()
DECODERS = sorted(name for name in dir(NATIVE) if name.startswith("decode_"))


def _signal(decoder: str) -> tuple[Signal, bool]:
    """``decode_metrics_json`` -> (metrics, JSON)."""
    name = decoder.removeprefix("decode_")
    json = name.endswith("_json")
    return Signal(name.removesuffix("_json")), json


def _seeds(signal: Signal, json: bool) -> list[bytes]:
    from bench.payloads import factory_for
    from tests.support.fuzzing import SEED_JSON, SEED_PROTOBUF

    factory = factory_for(signal.value, 4)
    if json:
        return [SEED_JSON[signal], factory.json_payload(1)]
    return [SEED_PROTOBUF[signal], factory.payload(1)]


def target_for(decoder: str) -> Any:
    decode = getattr(NATIVE, decoder)
    schema = SCHEMAS[_signal(decoder)[0]]
    import_batch = pa.RecordBatch._import_from_c

    def target(data: bytes) -> None:
        out = decode(data)
        if isinstance(out, str):
            return
        holder, address, rejected, first_error, *_ = out
        batch = import_batch(address, schema)
        del holder
        batch.validate(full=True)  # raises on anything Arrow would not read back
        if rejected < 0 or (rejected == 0) != (first_error == ""):
            raise AssertionError(f"rejections {rejected} with reason {first_error!r}")

    return target


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[1] == "--list":
        print("\n".join(d for d in DECODERS if _signal(d)[0] in SCHEMAS))
        return
    if len(argv) < 2 or argv[1] not in DECODERS:
        sys.exit(f"usage: python -m fuzz.native {{{'|'.join(DECODERS)}|--list}} [options]")
    decoder = argv[1]
    target = target_for(decoder)
    corpus = Path(".fuzz") / f"corpus-native-{decoder}"
    corpus.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(_seeds(*_signal(decoder))):
        target(seed)  # the seeds themselves must pass
        (corpus / f"seed-{number}").write_bytes(seed)
    atheris.Setup([argv[0], *argv[2:], str(corpus)], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
