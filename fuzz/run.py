"""What every fuzz target module shares: write the seeds to a corpus directory under .fuzz/
(checking that each seed passes), then hand the target to atheris (libFuzzer), which never
returns. Imports nothing of obsvty, so a target module can choose which build it imports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import atheris


def fuzz(
    name: str, target: Callable[[bytes], object], seeds: Sequence[bytes], argv: list[str]
) -> None:
    """Fuzz ``target`` from ``seeds``; ``argv`` is ``[program, *libFuzzer options]``. Given
    files instead (``argv`` with paths, e.g. a finding under .fuzz/), run ``target`` on each."""
    if any(not arg.startswith("-") for arg in argv[1:]):
        atheris.Setup(argv, target)
        atheris.Fuzz()
        return
    corpus = Path(".fuzz") / f"corpus-{name}"  # seeds to mutate from, and what the run finds
    corpus.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(seeds):
        target(seed)  # the seeds themselves must pass
        (corpus / f"seed-{number}").write_bytes(seed)
    atheris.Setup([*argv, str(corpus)], target)
    atheris.Fuzz()
