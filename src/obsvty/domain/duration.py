"""Durations written as text, the one parser for every place obsvty reads one.

The grammar is the union of what the configuration (``72h``, ``7d``, ``2w``), the native query
API (``250ms``, ``1h30m``, ``2d``) and the Jaeger APIs (Go durations: ``1.5s``, ``.5s``,
``250us``/``250µs``, ``-1s``) accepted:

* an optional sign, then one or more ``<number><unit>`` parts added together (``1h30m``);
  a number is ``12``, ``1.5``, ``1.`` or ``.5``;
* units, in any case: ``ns``, ``us``/``µs``/``μs``, ``ms``, ``s``, ``m``, ``h``, ``d`` (24 h),
  ``w`` (7 d);
* ``0`` alone is zero (as in Go), with or without a sign.

Two things the readers disagree on are the caller's to say, not guessed here:

* a number without a unit: nanoseconds for the query API, seconds for the configuration,
  refused by Go (the Jaeger APIs); ``unitless_ns`` is what one such unit is worth;
* spaces inside (``72 h``, ``1h 30m``): the configuration allows them, Go refuses them;
  ``spaced=True`` allows them. Spaces around the whole text are always ignored.

Readers with narrower rules check the result (the query API refuses a negative duration).
"""

from __future__ import annotations

import math
import re

NS_PER_S = 1_000_000_000

UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # micro sign
    "μs": 1_000,  # greek mu
    "ms": 1_000_000,
    "s": NS_PER_S,
    "m": 60 * NS_PER_S,
    "h": 3600 * NS_PER_S,
    "d": 86_400 * NS_PER_S,
    "w": 7 * 86_400 * NS_PER_S,
}
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_UNIT = r"(ns|us|µs|μs|ms|s|m|h|d|w)"  # "ms" before "m"
_PART = re.compile(_NUMBER + _UNIT, re.IGNORECASE)
_SPACED_PART = re.compile(r"\s*" + _NUMBER + r"\s*" + _UNIT + r"\s*", re.IGNORECASE)
_BARE = re.compile(_NUMBER)
EXAMPLES = "e.g. 250ms, 1.5s, 1h30m, 7d; units ns, us, ms, s, m, h, d, w"


def parse_duration_ns(text: str, *, unitless_ns: int | None = None, spaced: bool = False) -> int:
    """``text`` as a number of nanoseconds (see the module docstring for the grammar).

    ``unitless_ns``: what a number without a unit counts (``1``: nanoseconds, ``NS_PER_S``:
    seconds); ``None`` refuses one (but ``0``). ``spaced``: allow spaces between numbers and
    units. Raises :class:`ValueError` saying what is wrong.
    """
    body = text.strip()
    sign = 1
    if body[:1] in ("+", "-") and body:
        sign = -1 if body[0] == "-" else 1
        body = body[1:].lstrip() if spaced else body[1:]
    bare = _BARE.fullmatch(body)
    if bare is not None:
        if unitless_ns is None and float(body) != 0:
            raise ValueError(f"{text.strip()!r} has no unit ({EXAMPLES})")
        return sign * _rounded(text, float(body) * (unitless_ns or 0))
    part = _SPACED_PART if spaced else _PART
    total = 0.0
    at = 0
    for match in part.finditer(body):
        if match.start() != at:
            break
        total += float(match.group(1)) * UNITS_NS[match.group(2).lower()]
        at = match.end()
    if at == 0 or at != len(body):
        raise ValueError(f"{text.strip()!r} is not a duration ({EXAMPLES})")
    return sign * _rounded(text, total)


def _rounded(text: str, ns: float) -> int:
    if not math.isfinite(ns):
        raise ValueError(f"{text.strip()!r} is too long a duration")
    return round(ns)
