"""Use case: accept decoded telemetry into the buffer."""

from __future__ import annotations

from dataclasses import dataclass

from obsvty.domain.batches import Batch
from obsvty.ports.buffer import BufferPort


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
    """Hands decoded requests to the buffer. Raises ``BufferFullError`` under the reject policy."""

    def __init__(self, buffer: BufferPort) -> None:
        self._buffer = buffer

    def ingest(self, decoded: DecodedRequest) -> IngestResult:
        accepted = len(decoded.batch)
        sequence = self._buffer.put(decoded.batch).sequence if accepted else None
        if decoded.rejected and len(decoded.error_message) > 0:
            message = f"{decoded.rejected} item(s) rejected; first: {decoded.error_message}"
        else:
            message = decoded.error_message
        return IngestResult(accepted, decoded.rejected, message, sequence)
