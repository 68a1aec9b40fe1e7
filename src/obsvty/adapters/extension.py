"""The compiled extension (``obsvty._native``: the OTLP decoders and the span key set), or
``None`` when it is not built or ``OBSVTY_NO_EXTENSIONS`` is set; then every user of it takes its
pure-Python reference instead."""

from __future__ import annotations

import os
from types import ModuleType


def load() -> ModuleType | None:
    if os.environ.get("OBSVTY_NO_EXTENSIONS"):
        return None
    try:
        from obsvty import _native
    except ImportError:  # pragma: no cover - a build without a C compiler
        return None
    return _native
