""".env.example documents every setting with its default, and those defaults load as they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from obsvty.config import Settings, load_settings

pytestmark = pytest.mark.unit

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
SETTING_LINE = re.compile(r"^# ([A-Z0-9_]+)=(.*)$")


def _documented() -> dict[str, str]:
    return {
        m[1]: m[2]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if (m := SETTING_LINE.match(line))
    }


def _default_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def test_env_example_lists_every_setting_with_its_default() -> None:
    # Arrange
    expected = {
        name.upper(): _default_text(field.default) for name, field in Settings.model_fields.items()
    }

    # Act
    documented = _documented()

    # Assert
    assert documented == expected


def test_env_example_every_setting_has_a_comment() -> None:
    # Arrange
    lines = ENV_EXAMPLE.read_text().splitlines()

    # Act
    uncommented = [
        line
        for i, line in enumerate(lines)
        if SETTING_LINE.match(line)
        and (i == 0 or SETTING_LINE.match(lines[i - 1]) or not lines[i - 1].startswith("# "))
    ]

    # Assert
    assert uncommented == []


def test_env_example_uncommented_defaults_load_as_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Arrange: .env.example copied to .env with every setting that has a value switched on
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    enabled = [f"{name}={value}" for name, value in _documented().items() if value]
    (tmp_path / ".env").write_text("\n".join(enabled) + "\n")
    monkeypatch.chdir(tmp_path)

    # Act
    settings = load_settings()

    # Assert
    assert settings == Settings.model_construct()
