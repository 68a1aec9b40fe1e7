"""atheris fuzz targets for the compiled decoder (obsvty._native), each one differential:
``python -m fuzz.native {native-protobuf-traces|--list} [libFuzzer options]`` from the repository
root (``make fuzz`` runs each for a few seconds, ``make fuzz-asan`` against a sanitized build).

For each input, the compiled decoder either leaves the request to the reference decoder or gives
exactly what the reference gives (tests/support/decoders.py, as the differential tests check);
decoding a request the reference refuses, or giving other rows, rejections or reason, raises, and
libFuzzer saves the input under .fuzz/. The compiled decoder reads each input from a buffer of
exactly its size, so that AddressSanitizer sees a read past the end (a ``bytes`` object has a NUL
there).

``OBSVTY_FUZZ_EXTENSION_DIR``: a build directory (``setup.py build_ext --build-lib``) whose
``obsvty/_native*.so`` is imported instead of the in-tree one; the target refuses to run if it
is not the one imported.

A new target (logs, metrics, OTLP/JSON) is one more row in ``TARGETS``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["obsvty"]):  # Python coverage: reference and adapter
    import obsvty

    if os.environ.get("OBSVTY_FUZZ_EXTENSION_DIR"):  # looked up before src/obsvty/_native*.so
        obsvty.__path__.insert(0, str(Path(os.environ["OBSVTY_FUZZ_EXTENSION_DIR"], "obsvty")))
    from obsvty.adapters.otlp import codec, native, to_domain
    from obsvty.domain import validation

from bench.payloads import PayloadFactory
from tests.support.decoders import same_as_reference
from tests.support.fuzzing import SEED_PROTOBUF

from fuzz.run import fuzz
from obsvty.domain.model import Signal

INSTRUMENTED = (codec, to_domain, validation)
EXTENSION_DIR = os.environ.get("OBSVTY_FUZZ_EXTENSION_DIR")
_SEED_TIME_NS = 1_700_000_000_000_000_000  # a fixed clock, so the seeds are the same every run


def _exact(data: bytes) -> memoryview:
    """``data`` in a buffer of exactly its size (malloc'd, under ``PYTHONMALLOC=malloc``)."""
    return memoryview(ctypes.create_string_buffer(data, len(data)))


@dataclass(frozen=True)
class NativeTarget:
    signal: Signal
    seeds: Callable[[], list[bytes]]

    def __call__(self, data: bytes) -> None:
        same_as_reference(self.signal, data, native_input=_exact(data))


def _trace_seeds() -> list[bytes]:
    benchmark = PayloadFactory(spans_per_request=10, seed=0).payload(0, now_ns=_SEED_TIME_NS)
    return [SEED_PROTOBUF[Signal.TRACES], benchmark]


TARGETS = {
    "native-protobuf-traces": NativeTarget(Signal.TRACES, _trace_seeds),
}


def _check_extension() -> None:
    """The compiled decoder is there, and is the requested build."""
    if os.environ.get("OBSVTY_NO_EXTENSIONS"):  # as the differential tests are skipped
        print("fuzz.native: skipped, OBSVTY_NO_EXTENSIONS is set", file=sys.stderr)
        sys.exit(0)
    if not native.AVAILABLE:
        sys.exit("fuzz.native: obsvty._native is not built (make venv)")
    from obsvty import _native

    loaded = Path(_native.__file__).resolve()
    if EXTENSION_DIR and not loaded.is_relative_to(Path(EXTENSION_DIR).resolve()):
        sys.exit(f"fuzz.native: imported {loaded}, not the build in {EXTENSION_DIR}")
    print(f"fuzz.native: obsvty._native from {loaded}", file=sys.stderr)


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[1] == "--list":
        print(" ".join(TARGETS))
        return
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzz.native {{{'|'.join(TARGETS)}|--list}} [libFuzzer options]")
    _check_extension()
    name = argv[1]
    target = TARGETS[name]
    seeds = target.seeds()
    for number, seed in enumerate(seeds):  # else the fuzzing would prove little
        if same_as_reference(target.signal, seed) is None:
            sys.exit(f"fuzz.native: seed {number} of {name} is left to the reference decoder")
    fuzz(name, target, seeds, [argv[0], *argv[2:]])


if __name__ == "__main__":
    main(sys.argv)
