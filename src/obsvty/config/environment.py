"""Reading the settings: one clear line for a bad value, and warnings for variables that are
no setting or are set under both names."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from dotenv import dotenv_values
from pydantic import ValidationError

from obsvty.config.fields import PREFIX
from obsvty.config.settings import Settings
from obsvty.config.values import SettingsError

NOT_SETTINGS = frozenset(
    {"OBSVTY_EXPORT_TOKEN", "OBSVTY_TEST_MONGODB_URI", "OBSVTY_TEST_MONGODB_CLOUD_URI"}
)
"""``OBSVTY_*`` variables read elsewhere (``obsvty export``, the test suite), not settings."""


def _variables() -> dict[str, str]:
    """Every variable settings are read from, upper-cased: the ``.env`` file, then the
    environment (which wins, as in :class:`Settings`)."""
    values: dict[str, str] = {}
    env_file = Path(str(Settings.model_config.get("env_file") or ".env"))
    if env_file.is_file():
        values.update(
            {k.upper(): v for k, v in dotenv_values(env_file, encoding="utf-8").items() if v}
        )
    values.update({k.upper(): v for k, v in os.environ.items()})
    return values


def variable_warnings() -> list[str]:
    """One line for each ``OBSVTY_*`` variable that is no setting (it would be ignored), and for
    each setting set under both its names with different values (the plain name is used).
    Values are never shown: some are secrets."""
    variables = _variables()
    known = {name.upper() for name in Settings.model_fields}
    known |= {(PREFIX + name).upper() for name in Settings.model_fields}
    warnings = []
    for name in sorted(variables):
        if name.startswith(PREFIX.upper()) and name not in known | NOT_SETTINGS:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]}?)" if close else ""
            warnings.append(f"unknown setting {name} is ignored{hint}")
    for field in Settings.model_fields:
        plain, prefixed = field.upper(), (PREFIX + field).upper()
        if field.startswith(PREFIX) or plain not in variables or prefixed not in variables:
            continue
        if variables[plain] != variables[prefixed]:
            warnings.append(f"{plain} and {prefixed} are both set, differently: {plain} is used")
    return warnings


def _variable_name(field: str) -> str:
    """The variable the user set for ``field``: ``OBSVTY_<NAME>`` when only that is set."""
    plain, prefixed = field.upper(), (PREFIX + field).upper()
    variables = _variables()
    return prefixed if prefixed in variables and plain not in variables else plain


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one clear line for the first bad one."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule across settings: its input is every setting, secrets too
            raise SettingsError(f"invalid settings: {first['msg']}") from None
        name = _variable_name(str(first["loc"][0]).lower())
        secret = any(word in name for word in ("TOKEN", "HASH_KEY", "SECRET", "PASSWORD"))
        value = "<hidden>" if secret else first.get("input")
        raise SettingsError(f"invalid setting {name}={value!r}: {first['msg']}") from None
