"""Typed attribute values as JSON documents, for stores that keep attributes as JSON.

JSON already tells strings, booleans, integers (``1``), doubles (``1.0``), arrays, maps and null
apart, so values are written as themselves; only bytes, which JSON lacks, become
``{"$bytes": "<base64>"}``. orjson writes every float with a fraction or exponent, which keeps
an integer 1 and a double 1.0 distinct when read back.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import orjson

from obsvty.domain.model import Attributes, AttributeValue

BYTES_KEY = "$bytes"


def default(value: Any) -> Any:
    """orjson's ``default``: bytes as ``{"$bytes": "<base64>"}``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {BYTES_KEY: base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"not an attribute value: {type(value).__name__}")


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=default).decode()


def _revive(value: Any) -> AttributeValue:
    if isinstance(value, dict):
        if len(value) == 1 and BYTES_KEY in value and isinstance(value[BYTES_KEY], str):
            return base64.b64decode(value[BYTES_KEY])
        return {k: _revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value  # type: ignore[no-any-return]


_BYTES_MARK = f'"{BYTES_KEY}"'


def loads_value(document: str | bytes | None) -> AttributeValue:
    if document is None:
        return None
    value = orjson.loads(document)
    text = document if isinstance(document, str) else document.decode(errors="replace")
    # walking every value for a bytes marker is most of the cost of reading a span back; a
    # document without the marker's text anywhere holds none
    return _revive(value) if _BYTES_MARK in text else value


def loads_attributes(document: str | bytes | None) -> Attributes:
    value = loads_value(document)
    return value if isinstance(value, dict) else {}


# --- exact: also NaN and the infinities, which JSON lacks (and orjson writes as null), for
# records that must come back as they were (the cloud sync's dead letters)

DOUBLE_KEY = "$double"
_DOUBLE_MARK = f'"{DOUBLE_KEY}"'


def _tag_doubles(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else {DOUBLE_KEY: repr(value)}
    if isinstance(value, dict):
        return {k: _tag_doubles(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tag_doubles(v) for v in value]
    return value


def _untag_doubles(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(DOUBLE_KEY), str):
            return float(value[DOUBLE_KEY])
        return {k: _untag_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag_doubles(v) for v in value]
    return value


def dumps_exact(value: Any) -> str:
    """:func:`dumps`, with non-finite doubles as ``{"$double": "nan" | "inf" | "-inf"}``."""
    return dumps(_tag_doubles(value))


def loads_exact(document: str) -> Any:
    """The value :func:`dumps_exact` wrote."""
    value = loads_value(document)
    return _untag_doubles(value) if _DOUBLE_MARK in document else value
