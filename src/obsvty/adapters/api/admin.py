"""Admin endpoints of the cloud sync's dead letters: list them, send them again, purge them.

Mounted on the query API (under ``/api/v1/admin``) only when a cloud sync is configured, so they
sit behind the same query-token guard as every query. Changing endpoints (retry, purge) are
refused outright when the API is reachable beyond loopback without a query token: nobody on the
network may delete data anonymously. A purge names the letters to remove, or says ``all``
explicitly: an empty request body never deletes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from bson import json_util
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from obsvty.application.sync import SyncService
from obsvty.ports.sync import DeadLetter, TargetUnavailableError

MAX_PAGE = 1000


class DeadLetterIds(BaseModel):
    """Which dead letters: ``ids``, or every one with ``all: true``."""

    ids: list[str] = Field(default_factory=list, max_length=MAX_PAGE)
    all: bool = False


def _json(doc: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(doc), status_code, media_type="application/json")


def _error(status_code: int, error: str, message: str) -> Response:
    return _json({"error": error, "message": message}, status_code)


def _letter(d: DeadLetter, with_document: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id,
        "collection": d.collection,
        "error": d.error,
        "attempts": d.attempts,
        "first_failed_unix_nano": d.first_failed_unix_nano,
        "last_failed_unix_nano": d.last_failed_unix_nano,
    }
    if with_document:
        # MongoDB extended JSON (relaxed): ObjectIds, dates and binaries stay recognisable
        out["document"] = orjson.loads(
            json_util.dumps(d.document, json_options=json_util.RELAXED_JSON_OPTIONS)
        )
    return out


def dead_letter_stats(sync: SyncService) -> Callable[[], dict[str, Any]]:
    """What ``GET /api/v1/stats`` adds about the cloud sync."""

    def stats() -> dict[str, Any]:
        s = sync.status()
        return {
            "cloud_sync": {
                "breaker": str(s.breaker),
                "backlog": s.backlog,
                "synced": s.synced,
                "dead_letters": s.dead_letters,
            }
        }

    return stats


def create_admin_router(sync: SyncService, *, changes_refused: str | None = None) -> APIRouter:
    """The admin routes, relative (included under ``/api/v1/admin``). ``changes_refused``: why
    retry and purge must be refused (``None``: allowed)."""
    router = APIRouter(tags=["admin"])

    @router.get("/dead-letters", summary="Records the cloud refused for good, oldest first")
    def list_dead_letters(
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        document: Annotated[bool, Query(description="Include each refused record.")] = False,
    ) -> Response:
        letters = sync.dead_letters(limit, offset)
        return _json(
            {
                "count": sync.status().dead_letters,
                "dead_letters": [_letter(d, document) for d in letters],
            }
        )

    @router.post("/dead-letters/retry", summary="Send dead letters to the cloud again")
    def retry(selection: DeadLetterIds | None = None) -> Response:
        if changes_refused is not None:
            return _error(403, "forbidden", changes_refused)
        ids = None if selection is None or selection.all or not selection.ids else selection.ids
        try:
            result = sync.retry_dead_letters(ids)
        except TargetUnavailableError as exc:
            return _error(503, "unavailable", f"the cloud cannot be reached: {exc}")
        return _json(
            {
                "resent": result.resent,
                "still_failing": result.still_failing,
                "dead_letters": sync.status().dead_letters,
            }
        )

    @router.post("/dead-letters/purge", summary="Delete dead letters (ids, or all: true)")
    def purge(selection: DeadLetterIds) -> Response:
        if changes_refused is not None:
            return _error(403, "forbidden", changes_refused)
        if not selection.all and not selection.ids:
            return _error(400, "bad_request", "name the dead letters (ids) or set all: true")
        removed = sync.purge_dead_letters(None if selection.all else selection.ids)
        return _json({"purged": removed, "dead_letters": sync.status().dead_letters})

    return router
