"""Store dead letters as files in a directory (by default beside the DuckDB file).

One file per refused batch, ``<id>.jsonl``, in the OTLP/JSON form ``obsvty export`` writes: line 1
is the letter's metadata (a JSON object with ``obsvty_store_dead_letter``), line 2 the batch as
one OTLP/JSON export request, which any OTLP/HTTP receiver takes as it is
(``sed -n 2p FILE | curl --data @- .../v1/traces``). A file is written to a temporary name,
fsynced, renamed into place and its directory fsynced: once :meth:`park` returns, it survives a
crash, and a reader never sees half a file.

A replay *claims* a letter by renaming it to ``<id>.replaying`` (atomic: of two replays only one
wins), stores its items, then removes it. A ``.replaying`` file left behind means a replay stopped
between the two, so its items may already be stored: it is listed as such and replayed again only
when forced.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import orjson

from obsvty.adapters.encoding.stored_rows import list_batch
from obsvty.adapters.otlp import export
from obsvty.adapters.otlp.codec import CODECS, PayloadError
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import Batch, ListBatch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import LogRecord, MetricPoint, Signal, Span
from obsvty.ports.store_dead_letters import StoreDeadLetter, StoreDeadLetterError

WAITING = ".jsonl"
REPLAYING = ".replaying"
FORMAT_KEY = "obsvty_store_dead_letter"
FORMAT_VERSION = 1
_ID = re.compile(r"^[0-9]{8}T[0-9]{6}\.[0-9]{9}Z-(traces|logs|metrics)-[0-9a-f]{8}$")
_RECORD_TYPES: dict[type[ListBatch], type[Any]] = {
    SpanBatch: Span,
    LogBatch: LogRecord,
    MetricBatch: MetricPoint,
}


def _records(batch: ListBatch) -> list[Any]:
    """The batch's items as the domain records the OTLP export is built from (the columns and
    the record fields share their names)."""
    names = [f.name for f in fields(batch)]
    record = _RECORD_TYPES[type(batch)]
    return [
        record(**dict(zip(names, row, strict=True)))
        for row in zip(*(getattr(batch, n) for n in names), strict=True)
    ]


def request_json(batch: Batch) -> bytes:
    """``batch`` as one OTLP/JSON export request (the ``obsvty export`` form)."""
    items = _records(list_batch(batch) if isinstance(batch, ArrowBatch) else batch)
    if batch.signal is Signal.TRACES:
        return export.traces_to_otlp_json(items)
    if batch.signal is Signal.LOGS:
        return export.logs_to_otlp_json(items)
    return export.metrics_to_otlp_json(items)


def _new_id(signal: Signal, now_ns: int) -> str:
    seconds, nanos = divmod(now_ns, 1_000_000_000)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds))
    return f"{stamp}.{nanos:09d}Z-{signal.value}-{secrets.token_hex(4)}"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DeadLetterFiles:
    """:class:`~obsvty.ports.store_dead_letters.StoreDeadLetterPort` on a directory, created on
    the first letter."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, letter_id: str, suffix: str) -> Path:
        if not _ID.match(letter_id):
            raise StoreDeadLetterError(f"no store dead letter {letter_id!r} (not an id)")
        return self.directory / f"{letter_id}{suffix}"

    def park(self, batch: Batch, error: str, attempts: int) -> StoreDeadLetter:
        created = time.time_ns()
        letter = StoreDeadLetter(
            _new_id(batch.signal, created), batch.signal, len(batch), created, attempts, error
        )
        meta = {
            FORMAT_KEY: FORMAT_VERSION,
            "id": letter.id,
            "signal": letter.signal.value,
            "items": letter.items,
            "created_unix_nano": created,
            "attempts": attempts,
            "error": error,
        }
        final = self._path(letter.id, WAITING)
        temporary = self.directory / f".{letter.id}.tmp"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with temporary.open("xb") as out:
                out.write(orjson.dumps(meta) + b"\n" + request_json(batch) + b"\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, final)
            _fsync_dir(self.directory)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise StoreDeadLetterError(f"cannot write store dead letter {final}: {exc}") from exc
        return letter

    def _letter_files(self) -> list[Path]:
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreDeadLetterError(f"cannot read {self.directory}: {exc}") from exc
        return sorted(
            Path(e.path)
            for e in entries
            if e.name.endswith((WAITING, REPLAYING)) and not e.name.startswith(".")
        )

    def waiting(self) -> int:
        return len(self._letter_files())

    def letters(self) -> list[StoreDeadLetter]:
        letters = []
        for path in self._letter_files():
            try:
                with path.open("rb") as f:
                    meta = orjson.loads(f.readline())
            except FileNotFoundError:  # replayed or dropped meanwhile
                continue
            except (OSError, orjson.JSONDecodeError) as exc:
                raise StoreDeadLetterError(f"unreadable store dead letter {path}: {exc}") from exc
            letters.append(
                StoreDeadLetter(
                    meta["id"],
                    Signal(meta["signal"]),
                    meta["items"],
                    meta["created_unix_nano"],
                    meta["attempts"],
                    meta["error"],
                    replaying=path.suffix == REPLAYING,
                )
            )
        return sorted(letters, key=lambda letter: letter.id)

    def claim(self, letter_id: str, *, force: bool = False) -> list[Batch]:
        waiting, replaying = self._path(letter_id, WAITING), self._path(letter_id, REPLAYING)
        try:
            os.rename(waiting, replaying)  # atomic: of two claims, one finds no file
        except FileNotFoundError:
            if not replaying.exists():
                raise StoreDeadLetterError(f"no store dead letter {letter_id!r}") from None
            if not force:
                raise StoreDeadLetterError(
                    f"store dead letter {letter_id} was being replayed and the replay did not "
                    "finish: its items may already be stored (replay it with --force, or drop "
                    "it)"
                ) from None
        except OSError as exc:
            raise StoreDeadLetterError(
                f"cannot claim store dead letter {letter_id}: {exc}"
            ) from exc
        try:
            return self._load(replaying)
        except StoreDeadLetterError:
            self.unclaim(letter_id)
            raise

    @staticmethod
    def _load(path: Path) -> list[Batch]:
        try:
            meta_line, *requests = path.read_bytes().splitlines()
            signal = Signal(orjson.loads(meta_line)["signal"])
        except (OSError, ValueError, KeyError) as exc:
            raise StoreDeadLetterError(f"unreadable store dead letter {path}: {exc}") from exc
        codec = CODECS[signal].reference()  # list-based batches: every store takes them
        batches: list[Batch] = []
        for request in requests:
            try:
                decoded = codec.decode_json(request)
            except PayloadError as exc:
                raise StoreDeadLetterError(f"unreadable store dead letter {path}: {exc}") from exc
            if decoded.rejected:  # never half a letter: all of it is replayed, or nothing
                raise StoreDeadLetterError(
                    f"store dead letter {path}: {decoded.rejected} item(s) no longer valid: "
                    f"{decoded.error_message}"
                )
            batches.append(decoded.batch)
        return batches

    def unclaim(self, letter_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.rename(self._path(letter_id, REPLAYING), self._path(letter_id, WAITING))

    def remove(self, letter_id: str) -> None:
        removed = False
        for suffix in (WAITING, REPLAYING):
            try:
                self._path(letter_id, suffix).unlink()
                removed = True
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreDeadLetterError(
                    f"cannot remove store dead letter {letter_id}: {exc}"
                ) from exc
        if not removed:
            raise StoreDeadLetterError(f"no store dead letter {letter_id!r}")
        with contextlib.suppress(OSError):
            _fsync_dir(self.directory)
