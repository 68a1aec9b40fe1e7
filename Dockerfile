# syntax=docker/dockerfile:1
# obsvty: two stages. "build" installs the locked dependencies and obsvty into a virtualenv with
# uv, compiling obsvty's C extension (the OTLP decoder) with the build stage's own gcc; "runtime"
# copies only that virtualenv onto a slim Python image (no compiler) and runs as a non-root user.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/obsvty
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv==0.13.8
WORKDIR /src
# dependencies first (cached while only the source changes), exactly as locked, without dev tools
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY setup.py ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable

FROM python:${PYTHON_VERSION}-slim AS runtime
LABEL org.opencontainers.image.title="obsvty" \
      org.opencontainers.image.description="Privacy-first, local-first OpenTelemetry backend" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 obsvty \
    && useradd --system --uid 10001 --gid obsvty --home-dir /data --shell /usr/sbin/nologin obsvty \
    && mkdir -p /data \
    && chown obsvty:obsvty /data
COPY --from=build /opt/obsvty /opt/obsvty
# Listeners on 0.0.0.0 so that published ports reach them. The query API then refuses to start
# without OBSVTY_QUERY_TOKENS unless OBSVTY_ALLOW_UNAUTHENTICATED_QUERY_API=true is passed (as
# docker-compose.yml does, publishing on the host's loopback only): the image is never open by
# default.
ENV PATH=/opt/obsvty/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OTLP_GRPC_HOST=0.0.0.0 \
    OTLP_HTTP_HOST=0.0.0.0 \
    OBSVTY_API_HOST=0.0.0.0 \
    OBSVTY_DB_PATH=/data/obsvty.duckdb \
    LOG_FORMAT=json
USER obsvty
WORKDIR /data
VOLUME ["/data"]
# OTLP/gRPC, OTLP/HTTP (+ /healthz /readyz /metrics), query API and UI
EXPOSE 4317 4318 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:4318/healthz', timeout=2).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["obsvty"]
CMD ["serve"]
