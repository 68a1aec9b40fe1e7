"""How far the store has committed the buffer's stream, and a way for requests to wait for it.

The buffer numbers every accepted batch (``PutResult.sequence``, increasing by one per put). The
flusher publishes a *committed watermark* ``W`` after each successful store write: every batch
with a sequence up to ``W`` has left the buffer whole and is committed to the store. A durable
acknowledgement of batch ``s`` therefore waits until ``W >= s``.

Waiters live on asyncio event loops (the receivers), the flusher is a thread: a publish resolves
every satisfied waiter with one ``call_soon_threadsafe`` per event loop, however many there are.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a waiter that timed out was cancelled
            future.set_result(None)


class CommitWatermark:
    def __init__(self) -> None:
        self._committed = 0
        self._lock = threading.Lock()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._tiebreak = itertools.count()

    @property
    def committed(self) -> int:
        """Every batch with a sequence up to this one is committed."""
        return self._committed

    def waiting(self) -> int:
        """Requests waiting for their commit (including any that gave up but are not yet due)."""
        return len(self._waiters)

    def publish(self, through: int) -> None:
        """Record that every batch up to sequence ``through`` is committed (from any thread)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        with self._lock:
            if through <= self._committed:
                return
            self._committed = through
            waiters = self._waiters
            while waiters and waiters[0][0] <= through:
                future = heapq.heappop(waiters)[2]
                by_loop.setdefault(future.get_loop(), []).append(future)
        for loop, futures in by_loop.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, futures)

    async def wait_for(self, sequence: int, timeout: float) -> bool:
        """Wait until batch ``sequence`` is committed; ``False`` if it is not within ``timeout``
        seconds (it may still be committed later)."""
        if sequence <= self._committed:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if sequence <= self._committed:
                return True
            heapq.heappush(self._waiters, (sequence, next(self._tiebreak), future))
        try:
            async with asyncio.timeout(timeout):
                await future
        except TimeoutError:
            return False
        return True
