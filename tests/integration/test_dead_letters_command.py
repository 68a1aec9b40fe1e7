"""``obsvty dead-letters list|replay|drop`` on a real DuckDB file: one line per letter, a replay
stores a letter's log records exactly once (logs are not de-duplicated by the store) and removes
it, an unfinished replay is refused unless forced, drop deletes without storing, and mistakes
exit 1 with a clear message."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from obsvty import cli
from obsvty.adapters.storage.dead_letter_files import REPLAYING, WAITING, DeadLetterFiles
from obsvty.config import load_settings, store_dead_letter_dir
from obsvty.dead_letters_command import EXIT_FAILED, EXIT_STORE
from tests.support.records import log_batch, span_batch
from tests.support.telemetry_dataset import LOGS, SPANS

pytestmark = pytest.mark.integration


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The settings of ``obsvty`` in this test: its own working directory and database file."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "data" / "obsvty.duckdb"
    monkeypatch.setenv("OBSVTY_DB_PATH", str(path))
    return path


@pytest.fixture
def letters(db_path: Path) -> DeadLetterFiles:
    return DeadLetterFiles(store_dead_letter_dir(load_settings()))


def _count(db_path: Path, table: str) -> int:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - fixed names
    finally:
        con.close()
    return int(row[0]) if row else 0


def test_dead_letters_list_prints_one_line_per_letter_oldest_first(
    letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    logs = letters.park(log_batch(LOGS), "Constraint Error:\n  duplicate key", attempts=9)
    spans = letters.park(span_batch(SPANS), "Conversion Error", attempts=7)

    # Act
    code = cli.main(["dead-letters", "list"])

    # Assert
    out, err = capsys.readouterr()
    rows = [line.split("\t") for line in out.splitlines()]
    assert code == 0
    assert [[r[0], r[1], r[2], r[4], r[5]] for r in rows] == [
        [logs.id, "logs", str(len(LOGS)), "waiting", "Constraint Error: duplicate key"],
        [spans.id, "traces", str(len(SPANS)), "waiting", "Conversion Error"],
    ]
    assert all(r[3].endswith("Z") and r[3][:4] == logs.id[:4] for r in rows)
    assert f"2 in {letters.directory}" in err


def test_dead_letters_list_without_any_letter_prints_nothing_and_exits_0(
    letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    # Act
    code = cli.main(["dead-letters", "list"])

    # Assert
    out, err = capsys.readouterr()
    assert (code, out) == (0, "")
    assert "0 in" in err


def test_dead_letters_replay_stores_log_records_exactly_once_and_removes_the_letter(
    db_path: Path, letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    letter = letters.park(log_batch(LOGS), "refused", attempts=9)

    # Act
    first = cli.main(["dead-letters", "replay", letter.id])
    second = cli.main(["dead-letters", "replay", "--all"])

    # Assert
    out, err = capsys.readouterr()
    assert (first, second) == (0, 0)
    assert _count(db_path, "logs") == len(LOGS)
    assert out.splitlines() == [f"{letter.id}\treplayed\t{len(LOGS)} items"]
    assert "1 replayed, 0 failed" in err
    assert "0 replayed, 0 failed" in err
    assert letters.waiting() == 0


def test_dead_letters_replay_of_an_unfinished_replay_needs_force(
    db_path: Path, letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: a replay claimed the letter and stopped (as if killed before removing it)
    letter = letters.park(log_batch(LOGS), "refused", attempts=9)
    letters.claim(letter.id)

    # Act
    refused = cli.main(["dead-letters", "replay", "--all"])
    stored_before_force = _count(db_path, "logs")
    forced = cli.main(["dead-letters", "replay", "--force", letter.id])

    # Assert
    err = capsys.readouterr().err
    assert (refused, forced) == (EXIT_FAILED, 0)
    assert "may already be stored" in err
    assert stored_before_force == 0
    assert _count(db_path, "logs") == len(LOGS)
    assert not (letters.directory / f"{letter.id}{REPLAYING}").exists()


def test_dead_letters_drop_deletes_without_storing(
    db_path: Path, letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    kept = letters.park(log_batch(LOGS), "refused", attempts=9)
    dropped = letters.park(span_batch(SPANS), "refused", attempts=9)

    # Act
    code = cli.main(["dead-letters", "drop", dropped.id])

    # Assert
    assert code == 0
    assert f"{dropped.id}\tdropped\t{len(SPANS)} items" in capsys.readouterr().out
    assert [x.id for x in letters.letters()] == [kept.id]
    assert (letters.directory / f"{kept.id}{WAITING}").exists()
    assert not db_path.exists()


def test_dead_letters_drop_all_empties_the_directory(
    letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    for signal_batch in (log_batch(LOGS), span_batch(SPANS)):
        letters.park(signal_batch, "refused", attempts=9)

    # Act
    code = cli.main(["dead-letters", "drop", "--all"])

    # Assert
    assert code == 0
    assert "2 dropped, 0 failed" in capsys.readouterr().err
    assert letters.waiting() == 0


@pytest.mark.parametrize("action", ["replay", "drop"])
def test_dead_letters_without_ids_or_all_exits_1_and_changes_nothing(
    letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    # Arrange
    letters.park(log_batch(LOGS), "refused", attempts=9)

    # Act
    code = cli.main(["dead-letters", action])

    # Assert
    assert code == EXIT_FAILED
    assert "--all" in capsys.readouterr().err
    assert letters.waiting() == 1


def test_dead_letters_replay_unknown_id_exits_1_with_the_reason(
    letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    # Act
    code = cli.main(["dead-letters", "replay", "20261207T000000.000000000Z-logs-0000abcd"])

    # Assert
    assert code == EXIT_FAILED
    assert "no store dead letter" in capsys.readouterr().err


def test_dead_letters_replay_when_the_store_cannot_be_opened_exits_3(
    db_path: Path, letters: DeadLetterFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: the database path is a directory
    db_path.mkdir(parents=True)
    letter = letters.park(log_batch(LOGS), "refused", attempts=9)

    # Act
    code = cli.main(["dead-letters", "replay", letter.id])

    # Assert
    assert code == EXIT_STORE
    assert "obsvty dead-letters:" in capsys.readouterr().err
    assert letters.letters()[0].replaying is False


def test_dead_letters_help_tells_them_apart_from_the_cloud_sync_dead_letters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Act
    with pytest.raises(SystemExit) as caught:
        cli.main(["dead-letters", "--help"])

    # Assert
    assert caught.value.code == 0
    assert "not the cloud sync" in capsys.readouterr().out
