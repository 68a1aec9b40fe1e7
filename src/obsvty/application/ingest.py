"""Use case: accept decoded telemetry into the buffer, and acknowledge it in the chosen mode."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from obsvty.application.commit_watermark import CommitWatermark
from obsvty.application.redaction import Redactor
from obsvty.domain.batches import Batch
from obsvty.ports.buffer import BufferPort


class AckMode(StrEnum):
    BUFFERED = "buffered"
    """Answer once the data is in the buffer (a hard kill may lose what the buffer held)."""
    DURABLE = "durable"
    """Answer only once the data is committed to the store."""


class NotCommittedError(Exception):
    """Durable mode: the data was buffered but not committed in time (the store is failing or
    slow). It stays buffered and will be stored; the client should retry, which is safe for spans
    (the store ignores a span it already holds)."""


@dataclass(slots=True)
class DecodedRequest:
    """What a receiver decoded from one export request: the valid items, and why others were not."""

    batch: Batch
    rejected: int = 0
    error_message: str = ""

    def reject(self, reason: str) -> None:
        self.rejected += 1
        if not self.error_message:
            self.error_message = reason


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    rejected: int
    error_message: str
    sequence: int | None
    """Buffer position of the accepted batch, ``None`` when nothing was accepted."""


class IngestService:
    """Hands decoded requests to the buffer. Raises ``BufferFullError`` under the reject policy,
    and, in durable mode, :class:`NotCommittedError` when the commit does not come in time."""

    def __init__(
        self,
        buffer: BufferPort,
        *,
        watermark: CommitWatermark | None = None,
        commit_timeout: float = 5.0,
        redactor: Redactor | None = None,
    ) -> None:
        """``watermark`` given: durable mode, :meth:`submit` waits up to ``commit_timeout``
        seconds for the commit. ``redactor``: privacy rules applied before buffering."""
        self._buffer = buffer
        self._redactor = redactor
        self._watermark = watermark
        self._commit_timeout = commit_timeout

    @property
    def ack_mode(self) -> AckMode:
        return AckMode.BUFFERED if self._watermark is None else AckMode.DURABLE

    def has_room(self, nbytes: int) -> bool:
        """Whether a request of ``nbytes`` may be taken now; ``False`` means the buffer would refuse
        it (see :meth:`BufferPort.has_room`), so it need not be decoded: answer it retryable."""
        return self._buffer.has_room(nbytes)

    def ingest(self, decoded: DecodedRequest, nbytes: int = 0) -> IngestResult:
        """Buffer the valid items (``nbytes``: the request's size, for the buffer's byte bound)."""
        accepted = len(decoded.batch)
        if accepted and self._redactor is not None:
            self._redactor.apply(decoded.batch)
        sequence = self._buffer.put(decoded.batch, nbytes).sequence if accepted else None
        if decoded.rejected and len(decoded.error_message) > 0:
            message = f"{decoded.rejected} item(s) rejected; first: {decoded.error_message}"
        else:
            message = decoded.error_message
        return IngestResult(accepted, decoded.rejected, message, sequence)

    async def submit(self, decoded: DecodedRequest, nbytes: int = 0) -> IngestResult:
        """:meth:`ingest`, then in durable mode wait until the store has committed the items."""
        result = self.ingest(decoded, nbytes)
        watermark = self._watermark
        if (
            watermark is not None
            and result.sequence is not None
            and not await watermark.wait_for(result.sequence, self._commit_timeout)
        ):
            raise NotCommittedError(
                f"not committed within {self._commit_timeout:g}s (the store is failing or "
                "slow); the data is buffered, retry"
            )
        return result
