"""The command line, in process: --version, --help, and the exit codes of ``serve``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from obsvty import __version__, cli
from obsvty.adapters.storage.duckdb.store import DuckDBStore

pytestmark = pytest.mark.unit


def test_cli_version_prints_version_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    # Act
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])

    # Assert
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"obsvty {__version__}"


@pytest.mark.parametrize(
    ("argv", "expected"), [(["--help"], "serve"), (["serve", "--help"], "OTLP")]
)
def test_cli_help_describes_the_command_and_exits_0(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    # Act
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)

    # Assert
    assert caught.value.code == 0
    assert expected in capsys.readouterr().out


def test_cli_without_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    # Act
    code = cli.main([])

    # Assert
    assert code == cli.EXIT_CONFIG
    assert "usage: obsvty" in capsys.readouterr().out


def test_cli_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    # Act
    with pytest.raises(SystemExit) as caught:
        cli.main(["launch"])

    # Assert
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_serve_invalid_setting_prints_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLUSH_BATCH_SIZE", "-3")

    # Act
    code = cli.main(["serve"])

    # Assert
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("obsvty: invalid setting FLUSH_BATCH_SIZE='-3'")


def test_cli_serve_duckdb_file_in_use_prints_one_line_and_exits_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: in one process DuckDB shares an open file, so hold it from a child process
    db = tmp_path / "held.duckdb"
    DuckDBStore(db).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(db)!r}); print('ok', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ok"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OBSVTY_DB_PATH", str(db))
    monkeypatch.setenv("OTLP_GRPC_PORT", "0")
    monkeypatch.setenv("OTLP_HTTP_PORT", "0")

    # Act
    try:
        code = cli.main(["serve"])
    finally:
        holder.communicate("", timeout=30)

    # Assert
    assert code == cli.EXIT_STORE
    err = capsys.readouterr().err
    assert "already open by another process" in err
    assert "Traceback" not in err
