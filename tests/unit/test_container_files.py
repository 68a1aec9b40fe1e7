"""No Docker engine runs here: the container files are linted instead. The Dockerfile is parsed
into stages and instructions, the compose file with PyYAML, the Fargate task definition as JSON;
every obsvty setting they set must be a real setting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from obsvty.config import Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PORTS = {4317, 4318, 8000}
NOT_SETTINGS = {
    "PATH",
    "PYTHONUNBUFFERED",
    "UV_COMPILE_BYTECODE",
    "UV_LINK_MODE",
    "UV_PROJECT_ENVIRONMENT",
}


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _stages(text: str) -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current = None
    for word, rest in _instructions(text):
        if word == "FROM":
            match = re.match(r"(\S+)\s+AS\s+(\S+)", rest, re.IGNORECASE)
            assert match, f"every stage is named: FROM {rest}"
            current = match.group(2)
            stages[current] = [(word, match.group(1))]
        elif current is not None:
            stages[current].append((word, rest))
    return stages


def _env_names(args: str) -> list[str]:
    return re.findall(r"([A-Z_][A-Z0-9_]*)=", args)


def _assert_settings(names: list[str]) -> None:
    fields = set(Settings.model_fields)
    unknown = [n for n in names if n not in NOT_SETTINGS and n.lower() not in fields]
    assert unknown == [], f"not obsvty settings: {unknown}"


def test_dockerfile_is_multi_stage_slim_non_root_with_healthcheck_volume_and_ports() -> None:
    # Arrange
    stages = _stages((ROOT / "Dockerfile").read_text())

    # Act
    runtime = stages["runtime"]
    words = [w for w, _ in runtime]
    args = dict(runtime)

    # Assert
    assert list(stages) == ["build", "runtime"]
    assert runtime[0][1].endswith("-slim")
    assert any(w == "RUN" and "--no-dev" in a and "--frozen" in a for w, a in stages["build"])
    assert any(w == "COPY" and a.startswith("--from=build") for w, a in runtime)
    assert not any(w == "RUN" and "uv sync" in a for w, a in runtime)  # no build tools at runtime
    build_runs = " ".join(a for w, a in stages["build"] if w == "RUN")
    assert "gcc" in build_runs  # the C extension is compiled in the build stage
    assert not any("gcc" in a for w, a in runtime if w == "RUN")  # and no compiler is shipped
    assert any(w == "COPY" and "setup.py" in a for w, a in stages["build"])
    user = args["USER"]
    assert user not in ("root", "0")
    assert words.index("USER") > max(i for i, w in enumerate(words) if w == "RUN")
    assert {int(p) for p in args["EXPOSE"].split()} == PORTS
    assert json.loads(args["VOLUME"]) == ["/data"]
    assert "/healthz" in args["HEALTHCHECK"]
    assert args["HEALTHCHECK"].split("CMD", 1)[1].strip().startswith("[")  # exec form
    env = " ".join(a for w, a in runtime if w == "ENV")
    for host in ("OTLP_GRPC_HOST", "OTLP_HTTP_HOST", "OBSVTY_API_HOST"):
        assert f"{host}=0.0.0.0" in env
    assert "OBSVTY_DB_PATH=/data/" in env
    assert "OBSVTY_ALLOW_UNAUTHENTICATED_QUERY_API" not in env  # the image is never open
    _assert_settings(_env_names(env))
    assert json.loads(args["ENTRYPOINT"]) == ["obsvty"]
    assert json.loads(args["CMD"]) == ["serve"]


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "data"} <= ignored


def test_compose_runs_obsvty_and_mongodb_with_volumes_and_healthchecks() -> None:
    # Arrange
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    # Act
    services = compose["services"]
    obsvty, mongodb = services["obsvty"], services["mongodb"]

    # Assert
    assert set(services) == {"obsvty", "mongodb"}
    assert {int(p.rsplit(":", 1)[1]) for p in obsvty["ports"]} == PORTS
    assert any(v.endswith(":/data") for v in obsvty["volumes"])
    assert set(compose["volumes"]) == {"obsvty-data", "mongodb-data"}
    assert "/readyz" in " ".join(obsvty["healthcheck"]["test"])
    assert obsvty["depends_on"]["mongodb"]["condition"] == "service_healthy"
    assert mongodb["image"].startswith("mongo:")
    assert "healthcheck" in mongodb
    assert "mongodb:27017" in obsvty["environment"]["MONGODB_CLOUD_URI"]
    assert obsvty["environment"]["OBSVTY_REDACTION_HASH_KEY"].startswith("${")  # never inline
    _assert_settings(list(obsvty["environment"]))


def test_compose_publishes_every_port_on_loopback_and_opts_in_to_the_open_query_api() -> None:
    # Arrange
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    # Act
    obsvty = compose["services"]["obsvty"]
    published = [str(p).split(":") for p in obsvty["ports"]]
    environment = obsvty["environment"]

    # Assert: host address, host port, container port, for each of the three ports
    assert sorted(published) == [["127.0.0.1", str(p), str(p)] for p in sorted(PORTS)]
    assert "mongodb" not in {s for s, svc in compose["services"].items() if "ports" in svc}
    tokens = "OBSVTY_QUERY_TOKENS" in environment
    assert tokens or environment["OBSVTY_ALLOW_UNAUTHENTICATED_QUERY_API"] == "true"


def test_fargate_task_definition_has_limits_health_check_and_secrets() -> None:
    # Arrange
    task: dict[str, Any] = json.loads((ROOT / "deploy/fargate-task-definition.json").read_text())

    # Act
    (container,) = task["containerDefinitions"]

    # Assert
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert int(task["cpu"]) >= 512
    assert int(task["memory"]) >= 1024
    assert container["memory"] <= int(task["memory"])
    assert not container["user"].startswith("0")
    assert {m["containerPort"] for m in container["portMappings"]} == PORTS
    assert "/healthz" in " ".join(container["healthCheck"]["command"])
    assert container["healthCheck"]["command"][0] == "CMD"
    assert container["mountPoints"][0]["containerPath"] == "/data"
    plain = {e["name"] for e in container["environment"]}
    secret = {e["name"] for e in container["secrets"]}
    assert "OBSVTY_REDACTION_HASH_KEY" in secret
    assert "OBSVTY_QUERY_TOKENS" in secret  # its query API is on the task's network address
    assert not {n for n in plain if "TOKEN" in n or "KEY" in n}
    _assert_settings(sorted(plain | secret))
