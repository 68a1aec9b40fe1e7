"""``make audit``'s verdict (``.ci/audit_summary.py``, run as the Makefile runs it) from
pip-audit's JSON report: a run that audited nothing is a visible skip with the reason, never a
clean bill."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_summary.py"
NOT_FOUND = "Dependency not found on PyPI and could not be audited: {} (1.0)"


def _verdict(tmp_path: Path, dependencies: list[dict[str, Any]]) -> tuple[int, str]:
    report = tmp_path / "audit.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(report)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.returncode, done.stdout


def test_audit_summary_nothing_audited_says_skipped_with_the_reason(tmp_path: Path) -> None:
    # Arrange: PyPI unreachable, every dependency skipped
    dependencies = [{"name": n, "skip_reason": NOT_FOUND.format(n)} for n in ("duckdb", "grpcio")]

    # Act
    code, out = _verdict(tmp_path, dependencies)

    # Assert
    assert code == 0
    assert out.startswith("pip-audit: SKIPPED: none of the 2 locked dependencies")
    assert "NOT a clean bill" in out
    assert NOT_FOUND.format("duckdb") in out
    assert "no known vulnerabilities" not in out.lower()


def test_audit_summary_some_skipped_counts_the_audited_and_names_the_rest(tmp_path: Path) -> None:
    # Arrange
    dependencies = [
        {"name": "duckdb", "version": "2.0.0", "vulns": []},
        {"name": "private-pkg", "skip_reason": NOT_FOUND.format("private-pkg")},
    ]

    # Act
    code, out = _verdict(tmp_path, dependencies)

    # Assert
    assert code == 0
    assert out.splitlines() == [
        "pip-audit: audited 1 of 2 dependencies: no known vulnerabilities",
        "pip-audit: NOT audited (1): private-pkg",
    ]


def test_audit_summary_known_vulnerability_fails_naming_it(tmp_path: Path) -> None:
    # Arrange
    dependencies = [
        {
            "name": "urllib3",
            "version": "1.0",
            "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["2.5.0"], "aliases": []}],
        },
        {"name": "duckdb", "version": "2.0.0", "vulns": []},
    ]

    # Act
    code, out = _verdict(tmp_path, dependencies)

    # Assert
    assert code == 1
    assert "pip-audit: GHSA-xxxx in urllib3 1.0 (fixed in: 2.5.0)" in out
    assert "FAILED" in out


def test_audit_summary_everything_audited_and_clean_gives_the_count(tmp_path: Path) -> None:
    # Act
    code, out = _verdict(tmp_path, [{"name": "duckdb", "version": "2.0.0", "vulns": []}])

    # Assert
    assert code == 0
    assert out == "pip-audit: audited 1 of 1 dependencies: no known vulnerabilities\n"
