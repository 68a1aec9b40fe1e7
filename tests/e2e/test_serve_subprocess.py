"""``obsvty serve`` as a real process: graceful stop on SIGTERM/SIGINT with everything
acknowledged stored, a clear error for a DuckDB file already in use, exit 2 for a bad setting."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import httpx
import pytest

pytestmark = pytest.mark.e2e

OBSVTY = Path(sys.executable).parent / "obsvty"
READY = re.compile(r"OTLP/gRPC on (?P<grpc>[\w.]+:\d+).*OTLP/HTTP on http://(?P<http>[\w.]+:\d+)")
START_TIMEOUT_S = 30


class ServeProcess:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.stderr_lines: list[str] = []
        self.http = ""
        self.grpc = ""
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_lines.append(line)
            match = READY.search(line)
            if match:
                self.http = match["http"]
                self.grpc = match["grpc"]
                self._ready.set()
        self._ready.set()  # the process ended

    def wait_ready(self) -> None:
        assert self._ready.wait(START_TIMEOUT_S), "obsvty did not start in time"
        assert self.http, f"obsvty stopped during start-up: {self.stderr}"

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(START_TIMEOUT_S)
        self._reader.join(5)
        return code

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)


def _env(db_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTLP_", "OBSVTY_"))}
    env.update(
        {
            "OTLP_GRPC_PORT": "0",
            "OTLP_HTTP_PORT": "0",
            "OBSVTY_API_PORT": "0",
            "OBSVTY_DB_PATH": str(db_path),
            **settings,
        }
    )
    return env


@contextmanager
def serve(cwd: Path, env: dict[str, str], command: list[str]) -> Iterator[ServeProcess]:
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    running = ServeProcess(process)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _span_json(number: int) -> bytes:
    return (
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{'
        '"traceId":"0af7651916cd43dd8448eb211c80319c",'
        f'"spanId":"{number:016x}","name":"e2e","startTimeUnixNano":"1","endTimeUnixNano":"2"'
        "}]}]}]}"
    ).encode()


def _log_json(number: int) -> bytes:
    return (
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{'
        f'"timeUnixNano":"{number}","body":{{"intValue":"{number}"}}'
        "}]}]}]}"
    ).encode()


@pytest.mark.parametrize(
    ("command", "sig"),
    [
        ([str(OBSVTY), "serve"], signal.SIGTERM),
        ([sys.executable, "-m", "obsvty", "serve"], signal.SIGINT),
    ],
    ids=["obsvty-serve-sigterm", "python-m-obsvty-sigint"],
)
def test_serve_signal_after_sending_every_acknowledged_item_is_stored(
    tmp_path: Path, command: list[str], sig: int
) -> None:
    # Arrange: nothing is flushed before the stop, so the stop itself must drain the buffer
    db_path = tmp_path / "data" / "obsvty.duckdb"
    env = _env(db_path, FLUSH_INTERVAL_MS="3600000", FLUSH_BATCH_SIZE="100000")
    acknowledged_spans = acknowledged_logs = 0

    # Act
    with serve(tmp_path, env, command) as server:
        server.wait_ready()
        with httpx.Client(base_url=f"http://{server.http}") as client:
            assert client.get("/healthz").status_code == 200
            for number in range(1, 26):
                headers = {"Content-Type": "application/json"}
                if client.post(
                    "/v1/traces", content=_span_json(number), headers=headers
                ).is_success:
                    acknowledged_spans += 1
                if client.post("/v1/logs", content=_log_json(number), headers=headers).is_success:
                    acknowledged_logs += 1
        code = server.stop(sig)

    # Assert
    assert code == 0, server.stderr
    assert "Traceback" not in server.stderr
    assert "nanobind" not in server.stderr  # a clean stop is quiet: no leak report at exit
    assert (acknowledged_spans, acknowledged_logs) == (25, 25)
    with duckdb.connect(str(db_path), read_only=True) as con:
        spans = con.execute("SELECT count(DISTINCT span_id) FROM spans").fetchone()
        logs = con.execute("SELECT list_sort(list(body::INTEGER)) FROM logs").fetchone()
    assert spans == (25,)
    assert logs == (list(range(1, 26)),)


def test_serve_second_process_on_same_duckdb_file_fails_with_one_clear_line(
    tmp_path: Path,
) -> None:
    # Arrange
    env = _env(tmp_path / "shared.duckdb")
    with serve(tmp_path, env, [str(OBSVTY), "serve"]) as first:
        first.wait_ready()

        # Act
        second = subprocess.run(
            [str(OBSVTY), "serve"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
        # Assert (the first keeps serving)
        assert httpx.get(f"http://{first.http}/healthz").status_code == 200
        assert first.stop(signal.SIGTERM) == 0

    assert second.returncode not in (0, 2)
    assert "Traceback" not in second.stderr
    errors = [line for line in second.stderr.splitlines() if "already open" in line]
    assert len(errors) == 1
    assert "shared.duckdb" in errors[0]


def test_serve_obsvty_prefixed_setting_applies_and_unknown_one_warns_at_start_up(
    tmp_path: Path,
) -> None:
    # Arrange: a prefixed name of a setting without the prefix, and a misspelt one
    env = _env(tmp_path / "x.duckdb", OBSVTY_ACK_MODE="durable", OBSVTY_ACK_MOD="durable")

    # Act
    with serve(tmp_path, env, [str(OBSVTY), "serve"]) as server:
        server.wait_ready()
        code = server.stop(signal.SIGTERM)

    # Assert
    assert code == 0, server.stderr
    unknown = [line for line in server.stderr_lines if "OBSVTY_ACK_MOD " in line]
    assert len(unknown) == 1
    assert "unknown setting" in unknown[0]
    assert "WARNING" in unknown[0]
    assert "(ACK_MODE=durable)" in server.stderr  # the start-up line names the mode


@pytest.mark.parametrize("listener", ["OTLP_GRPC_PORT", "OTLP_HTTP_PORT"])
def test_serve_port_of_a_running_obsvty_exits_3_with_one_clear_line(
    tmp_path: Path, listener: str
) -> None:
    # Arrange: a first obsvty serving (gRPC binds with the options gRPC uses by default)
    with serve(tmp_path, _env(tmp_path / "first.duckdb"), [str(OBSVTY), "serve"]) as first:
        first.wait_ready()
        taken = {"OTLP_GRPC_PORT": first.grpc, "OTLP_HTTP_PORT": first.http}[listener]
        port = taken.rsplit(":", 1)[1]

        # Act: a second one with its own file and other ports, but the same port for `listener`
        second = subprocess.run(
            [str(OBSVTY), "serve"],
            cwd=tmp_path,
            env=_env(tmp_path / "second.duckdb", **{listener: port}),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )

        # Assert (the first keeps serving)
        assert httpx.get(f"http://{first.http}/healthz").status_code == 200
        assert first.stop(signal.SIGTERM) == 0

    assert second.returncode == 3, second.stderr
    assert "Traceback" not in second.stderr
    errors = [line for line in second.stderr.splitlines() if "in use" in line.lower()]
    assert len(errors) == 1, second.stderr
    assert port in errors[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTLP_GRPC_PORT", "70000"),
        ("BUFFER_OVERFLOW_POLICY", "explode"),
        ("OBSVTY_API_HOST", "0.0.0.0"),  # noqa: S104 - open query API, no tokens, no opt-in
    ],
)
def test_serve_invalid_setting_exits_2_naming_the_setting(
    tmp_path: Path, name: str, value: str
) -> None:
    # Act
    done = subprocess.run(
        [str(OBSVTY), "serve"],
        cwd=tmp_path,
        env=_env(tmp_path / "x.duckdb", **{name: value}),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )

    # Assert
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert name in lines[0]
    assert not (tmp_path / "x.duckdb").exists()


def test_serve_invalid_setting_in_dotenv_file_exits_2(tmp_path: Path) -> None:
    # Arrange
    (tmp_path / ".env").write_text("# local settings\nMAX_BUFFER_SIZE=-5\n")

    # Act
    done = subprocess.run(
        [sys.executable, "-m", "obsvty", "serve"],
        cwd=tmp_path,
        env=_env(tmp_path / "x.duckdb"),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )

    # Assert
    assert done.returncode == 2
    assert "MAX_BUFFER_SIZE" in done.stderr.strip()


@pytest.mark.parametrize(
    ("args", "expected"), [(["--version"], "obsvty "), (["serve", "--help"], "OTLP")]
)
def test_cli_entry_point_version_and_help_exit_0(args: list[str], expected: str) -> None:
    # Act
    done = subprocess.run(
        [sys.executable, "-m", "obsvty", *args],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )

    # Assert
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
