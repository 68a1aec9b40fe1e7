"""The Makefile's two commands install what each needs: ``make run`` obsvty's runtime
dependencies only, ``make test`` (and every target that runs a tool) the development tools too.
Checked with ``make -n -B`` (print every command of a target as if nothing were built)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine"),
]

ROOT = Path(__file__).resolve().parents[2]


def _syncs(target: str) -> list[str]:
    """The ``uv sync`` commands ``make <target>`` runs on a fresh clone."""
    done = subprocess.run(
        ["make", "-n", "-B", target],  # make from the PATH, as a developer runs it
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if " sync " in line]


def test_make_run_on_a_fresh_clone_installs_runtime_dependencies_only() -> None:
    # Act
    syncs = _syncs("run")

    # Assert
    assert len(syncs) == 1
    assert "--no-dev" in syncs[0]
    assert "--frozen" in syncs[0]


@pytest.mark.parametrize("target", ["test", "pytest", "lint", "typecheck"])
def test_make_quality_targets_install_the_development_tools(target: str) -> None:
    # Act
    syncs = _syncs(target)

    # Assert
    assert syncs
    assert all("--no-dev" not in sync and "--frozen" in sync for sync in syncs)
