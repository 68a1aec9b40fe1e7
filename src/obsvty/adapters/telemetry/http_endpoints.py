"""``GET /healthz`` (liveness), ``GET /readyz`` (readiness) and ``GET /metrics`` (Prometheus),
as Starlette routes any of obsvty's HTTP listeners can carry."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from obsvty.adapters.telemetry.metrics import ObsvtyMetrics
from obsvty.application.health import HealthRegistry

_NO_STORE = {"Cache-Control": "no-store"}


def operability_routes(
    health: HealthRegistry | None = None, metrics: ObsvtyMetrics | None = None
) -> list[BaseRoute]:
    """The probe routes; without a registry ``/healthz`` and ``/readyz`` only say the process
    answers, without metrics there is no ``/metrics``."""

    async def healthz(_: Request) -> Response:
        if health is None:
            return JSONResponse({"status": "ok"}, headers=_NO_STORE)
        report = health.check()
        return JSONResponse(
            report.to_json(for_readiness=False),
            status_code=200 if report.live else 503,
            headers=_NO_STORE,
        )

    async def readyz(_: Request) -> Response:
        if health is None:
            return JSONResponse({"status": "ok"}, headers=_NO_STORE)
        report = health.check()
        return JSONResponse(
            report.to_json(for_readiness=True),
            status_code=200 if report.ready else 503,
            headers=_NO_STORE,
        )

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
    ]
    if metrics is not None:
        registry = metrics.registry

        async def prometheus(_: Request) -> Response:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

        routes.append(Route("/metrics", prometheus, methods=["GET"]))
    return routes
