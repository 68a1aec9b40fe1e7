"""Admin endpoints of the store dead letters (batches the local store refused for good): list,
replay through the running server, drop. Not the cloud sync's dead letters (``admin.py``).

Mounted on the query API under ``/api/v1/admin/store-dead-letters``, behind the same query-token
guard as every query; replay and drop are refused outright when the API is reachable beyond
loopback without a query token. A replay writes between the flusher's writes (the DuckDB file can
only be open in the running server), so ``obsvty dead-letters replay --api-url`` works while
obsvty serves. A change names the letters, or says ``all`` explicitly.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from obsvty.application.dead_letter_replay import LetterOutcome, Write, drop, replay
from obsvty.ports.store_dead_letters import StoreDeadLetterError, StoreDeadLetterPort

MAX_IDS = 1000


class LetterSelection(BaseModel):
    """Which store dead letters: ``ids``, or every one with ``all: true``."""

    ids: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    all: bool = False
    force: bool = False
    """Replay only: also letters whose earlier replay did not finish."""


def _json(doc: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(doc), status_code, media_type="application/json")


def _error(status_code: int, error: str, message: str) -> Response:
    return _json({"error": error, "message": message}, status_code)


def _outcomes(outcomes: list[LetterOutcome]) -> Response:
    return _json(
        {
            "done": sum(1 for o in outcomes if not o.error),
            "failed": sum(1 for o in outcomes if o.error),
            "letters": [{"id": o.id, "items": o.items, "error": o.error} for o in outcomes],
        }
    )


def create_store_dead_letter_router(
    letters: StoreDeadLetterPort, write: Write, *, changes_refused: str | None = None
) -> APIRouter:
    """The routes, relative (included under ``/api/v1/admin/store-dead-letters``); ``write``
    stores a replayed letter's batches; ``changes_refused``: why replay and drop must be refused
    (``None``: allowed)."""
    router = APIRouter(tags=["admin"])

    def selected(selection: LetterSelection) -> list[str] | Response:
        if changes_refused is not None:
            return _error(403, "forbidden", changes_refused)
        if selection.all:
            return [letter.id for letter in letters.letters()]
        if not selection.ids:
            return _error(400, "bad_request", "name the letters (ids) or set all: true")
        return selection.ids

    @router.get("", summary="Batches the store refused for good, oldest first")
    def list_letters() -> Response:
        try:
            waiting = letters.letters()
        except StoreDeadLetterError as exc:
            return _error(500, "unreadable", str(exc))
        return _json(
            {
                "count": len(waiting),
                "store_dead_letters": [
                    {
                        "id": x.id,
                        "signal": x.signal.value,
                        "items": x.items,
                        "created_unix_nano": x.created_unix_nano,
                        "attempts": x.attempts,
                        "error": x.error,
                        "replaying": x.replaying,
                    }
                    for x in waiting
                ],
            }
        )

    @router.post("/replay", summary="Store letters through the running server, then remove them")
    def replay_letters(selection: LetterSelection) -> Response:
        ids = selected(selection)
        if isinstance(ids, Response):
            return ids
        return _outcomes(replay(letters, write, ids, force=selection.force))

    @router.post("/drop", summary="Delete letters without storing them")
    def drop_letters(selection: LetterSelection) -> Response:
        ids = selected(selection)
        if isinstance(ids, Response):
            return ids
        return _outcomes(drop(letters, ids))

    return router
