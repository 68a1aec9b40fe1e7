"""``obsvty check-config``: validate the configuration and print the effective settings, with
every secret masked."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import IO

import orjson
from pydantic import SecretStr

from obsvty.config import Settings, SettingsError, load_settings, variable_warnings
from obsvty.domain.redaction import RedactionConfigError

MASKED = "********"
_SECRET_NAMES = re.compile(r"(?i)(tokens?|password|secret|hash_key|api_key)$")
"""Names whose string values are secrets, by their last word: OBSVTY_REDACTION_HASH_KEY is one,
OBSVTY_REDACTION_HASH_KEYS (attribute keys to hash) is not."""
_URI_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")


def masked_value(name: str, value: object) -> object:
    """A setting's value as it may be shown: secrets replaced, passwords cut out of URIs."""
    if value is None:
        return None
    if isinstance(value, SecretStr) or (
        _SECRET_NAMES.search(name) and not name.endswith("_file") and isinstance(value, str)
    ):
        return MASKED
    if isinstance(value, str):
        return _URI_PASSWORD.sub(rf"\g<scheme>\g<user>:{MASKED}@", value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "total_seconds"):
        return f"{value.total_seconds():g}s"
    return value


def effective(settings: Settings) -> dict[str, dict[str, object]]:
    """Every setting: its environment variable, masked value, and whether it was set."""
    explicit = settings.model_fields_set
    return {
        name.upper(): {
            "value": masked_value(name, getattr(settings, name)),
            "source": "set" if name in explicit else "default",
        }
        for name in type(settings).model_fields
    }


def check_config(
    out: IO[str] | None = None, err: IO[str] | None = None, *, as_json: bool = False
) -> int:
    """Exit code 0 when the configuration is valid, 2 when it is not (one line says why, or
    one line for each ``OBSVTY_*`` variable that is no setting or is set twice differently)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        settings = load_settings()
        from obsvty.adapters.telemetry.operations import build_redactor

        build_redactor(settings.operations().redaction)
        from obsvty.adapters.security.policy import open_query_api_refusal

        refusal = open_query_api_refusal(settings.security(), settings.obsvty_api_host)
        if refusal is not None:
            raise SettingsError(refusal)
    except (SettingsError, RedactionConfigError) as exc:
        print(f"obsvty: {exc}", file=err)
        return 2
    warnings = variable_warnings()
    for warning in warnings:
        print(f"obsvty: {warning}", file=err)
    if warnings:
        return 2
    report = effective(settings)
    if as_json:
        out.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        width = max(len(k) for k in report)
        for key, entry in report.items():
            value = "" if entry["value"] is None else entry["value"]
            mark = "" if entry["source"] == "default" else "   (set)"
            out.write(f"{key:<{width}} = {value}{mark}\n")
        out.write("configuration OK\n")
    return 0
