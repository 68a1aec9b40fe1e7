"""The official OTLP/JSON examples ship in the repository (``examples/otlp/``), so a fresh clone
runs every test that sends them and the README's first command works as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import OTLP_EXAMPLES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("trace.json", "resourceSpans"),
        ("logs.json", "resourceLogs"),
        ("metrics.json", "resourceMetrics"),
    ],
)
def test_otlp_examples_in_the_repository_are_export_requests(name: str, key: str) -> None:
    # Act
    path = OTLP_EXAMPLES / name

    # Assert
    assert path.is_relative_to(ROOT)
    assert key in json.loads(path.read_text())


def test_readme_curl_examples_post_files_the_repository_ships() -> None:
    # Arrange
    readme = (ROOT / "README.md").read_text()

    # Act
    posted = re.findall(r"-d @(\S+)", readme)

    # Assert
    assert posted
    outside = [p for p in posted if not (ROOT / p).resolve().is_relative_to(ROOT)]
    assert outside == []
    assert [p for p in posted if not (ROOT / p).is_file()] == []
