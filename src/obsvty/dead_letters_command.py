"""``obsvty dead-letters list|replay|drop``: the batches the store refused for good.

Works on the files (``STORE_DEAD_LETTER_DIR``) and, for a replay, on the store itself, opened
with this environment's settings: the DuckDB file can only be open in one process, so a DuckDB
replay runs while no obsvty serves that file (MongoDB takes a replay while obsvty runs), or,
with ``--api-url``, through the running obsvty's admin API, which writes between its flushes.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from obsvty.adapters.storage.dead_letter_files import DeadLetterFiles
from obsvty.application.dead_letter_replay import LetterOutcome, drop, replay
from obsvty.config import Settings, store_dead_letter_dir
from obsvty.ports.store import StoreError, StoreLockedError, TelemetryStorePort
from obsvty.ports.store_dead_letters import StoreDeadLetterError

EXIT_FAILED = 1
EXIT_STORE = 3


def _when(unix_nano: int) -> str:
    seconds, nanos = divmod(unix_nano, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos // 1000:06d}Z"


def open_store(settings: Settings) -> TelemetryStorePort:
    """The store the settings name, opened in this process (no DuckDB subprocess)."""
    if settings.obsvty_storage == "mongodb":
        from obsvty.adapters.storage.mongodb.store import MongoDBStore

        return MongoDBStore(settings.mongodb().connection)
    from obsvty.adapters.storage.duckdb.store import DuckDBStore

    return DuckDBStore(settings.obsvty_db_path, threads=settings.duckdb_threads)


def _report(verb: str, outcomes: list[LetterOutcome], out: TextIO, err: TextIO) -> int:
    failed = 0
    for o in outcomes:
        if o.error:
            failed += 1
            print(f"obsvty dead-letters: {o.id}: {o.error}", file=err)
        else:
            print(f"{o.id}\t{verb}\t{o.items} items", file=out)
    done = len(outcomes) - failed
    print(f"obsvty dead-letters: {done} {verb}, {failed} failed", file=err)
    return EXIT_FAILED if failed else 0


def _list(letters: DeadLetterFiles, out: TextIO, err: TextIO) -> int:
    waiting = letters.letters()
    for letter in waiting:
        state = "replay-unfinished" if letter.replaying else "waiting"
        error = " ".join(letter.error.split())  # one line per letter
        print(
            f"{letter.id}\t{letter.signal.value}\t{letter.items}\t"
            f"{_when(letter.created_unix_nano)}\t{state}\t{error}",
            file=out,
        )
    print(f"obsvty dead-letters: {len(waiting)} in {letters.directory}", file=err)
    return 0


def _replay(
    settings: Settings,
    letters: DeadLetterFiles,
    ids: Sequence[str],
    force: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    if not ids:
        return _report("replayed", [], out, err)
    try:
        store = open_store(settings)
    except StoreLockedError as exc:
        print(
            f"obsvty dead-letters: {exc}. Replay through the running obsvty (--api-url), or "
            "while it is stopped.",
            file=err,
        )
        return EXIT_STORE
    except StoreError as exc:
        print(f"obsvty dead-letters: {exc}", file=err)
        return EXIT_STORE
    try:
        return _report("replayed", replay(letters, store.write, ids, force=force), out, err)
    finally:
        store.close()


def _replay_through_server(
    api_url: str,
    token: str | None,
    ids: Sequence[str],
    every: bool,
    force: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """Ask the running obsvty to replay (its admin API writes between its own flushes)."""
    from obsvty.adapters.api.export_client import ExportError, QueryApiClient

    try:
        client = QueryApiClient(api_url, token or os.environ.get("OBSVTY_EXPORT_TOKEN"))
        answer = client.post_json(
            "/api/v1/admin/store-dead-letters/replay",
            {"ids": list(ids), "all": every, "force": force},
        )
    except ExportError as exc:
        print(f"obsvty dead-letters: {exc}", file=err)
        return EXIT_FAILED
    outcomes = [LetterOutcome(x["id"], x["items"], x["error"]) for x in answer["letters"]]
    return _report("replayed", outcomes, out, err)


def run_dead_letters(
    settings: Settings,
    action: str,
    ids: Sequence[str] = (),
    *,
    every: bool = False,
    force: bool = False,
    api_url: str | None = None,
    token: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``action`` is ``list``, ``replay`` or ``drop``; ``ids`` or ``every`` say which letters;
    ``api_url``: replay through that running obsvty. 0 when everything asked for was done, else
    1 (3: the store cannot be opened)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if action != "list" and not ids and not every:
        print("obsvty dead-letters: name the letters (IDs) or say --all", file=err)
        return EXIT_FAILED
    if action == "replay" and api_url is not None:
        return _replay_through_server(api_url, token, ids, every, force, out, err)
    letters = DeadLetterFiles(store_dead_letter_dir(settings))
    try:
        if action == "list":
            return _list(letters, out, err)
        if every:
            ids = [letter.id for letter in letters.letters()]
        if action == "drop":
            return _report("dropped", drop(letters, ids), out, err)
        return _replay(settings, letters, ids, force, out, err)
    except StoreDeadLetterError as exc:
        print(f"obsvty dead-letters: {exc}", file=err)
        return EXIT_FAILED
