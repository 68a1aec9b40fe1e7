"""Privacy redaction rules and how they transform one value.

Two kinds of rule:

* a **key rule** matches attribute keys (a case-insensitive glob such as ``*password*``) and
  drops the attribute, masks its whole value, or replaces it with a keyed hash;
* a **pattern rule** matches text (a regular expression such as an e-mail address) inside string
  values, log bodies and span names, and masks or hashes each match in place.

A keyed hash is ``hmac:`` followed by the first 32 hex digits (128 bits) of HMAC-SHA256 under the
configured key: equal inputs give equal outputs, so joins and group-bys still work, but the input
cannot be recovered or confirmed without the key.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import hmac
import math
import re
from dataclasses import dataclass, field
from enum import StrEnum

from obsvty.domain.model import AttributeValue

MASK = "[REDACTED]"
HASH_PREFIX = "hmac:"
_HASH_HEX_DIGITS = 32
_KEY_CACHE_LIMIT = 10_000
_TEXT_CACHE_LIMIT = 50_000
_TEXT_CACHE_MAX_LEN = 256


class Action(StrEnum):
    DROP = "drop"
    MASK = "mask"
    HASH = "hash"


class RedactionConfigError(ValueError):
    """A rule is malformed; ``str()`` says which and why."""


@dataclass(frozen=True, slots=True)
class KeyRule:
    pattern: str
    """Case-insensitive glob over the attribute key (``*`` any run, ``?`` one character)."""
    action: Action

    @property
    def name(self) -> str:
        return f"key:{self.pattern}"


@dataclass(frozen=True, slots=True)
class PatternRule:
    name: str
    regex: str
    action: Action
    luhn: bool = False
    """Keep only matches whose digits pass the Luhn checksum (credit-card numbers)."""
    hints: tuple[str, ...] = ()
    """Substrings one of which a matching value must contain (empty: no pre-check)."""


_HINTS: dict[str, tuple[str, ...]] = {
    "email": ("@",),
    "ipv4": (".",),
    "ipv6": (":",),
    "bearer_token": ("bearer", "Bearer", "BEARER"),
    "jwt": ("eyJ",),
}
"""Substrings one of which a value must contain for the built-in pattern to match at all: a
C-speed ``in`` test that spares most values the regular expression."""

BUILTIN_PATTERNS: dict[str, tuple[str, bool]] = {
    "email": (r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}", False),
    "credit_card": (r"(?<![\d.])(?:\d[ \-]?){12,18}\d(?![\d.])", True),
    "ipv4": (
        r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
        r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])",
        False,
    ),
    "ipv6": (
        r"(?<![\w:.])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
        r"|(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4}::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4})"
        r"(?![\w:])",
        False,
    ),
    "bearer_token": (r"\b(?i:bearer)\s+[A-Za-z0-9\-._~+/]+=*", False),
    "jwt": (r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]+", False),
}

DEFAULT_DROP_KEYS = (
    "http.request.header.authorization",
    "http.request.header.cookie",
    "http.request.header.x-api-key",
    "http.response.header.set-cookie",
    "*password*",
    "*passwd*",
    "*secret*",
    "*api_key*",
    "*apikey*",
    "*access_token*",
    "*refresh_token*",
)


def builtin_pattern(name: str, action: Action) -> PatternRule:
    try:
        regex, luhn = BUILTIN_PATTERNS[name]
    except KeyError:
        known = ", ".join(BUILTIN_PATTERNS)
        raise RedactionConfigError(f"unknown built-in pattern {name!r} (known: {known})") from None
    return PatternRule(name, regex, action, luhn, _HINTS.get(name, ()))


def default_rules(*, can_hash: bool) -> tuple[list[KeyRule], list[PatternRule]]:
    """The ready rule set: drop credential-like attributes, mask tokens and card numbers, and
    hash e-mail and IP addresses (masked instead when no hash key is configured)."""
    joinable = Action.HASH if can_hash else Action.MASK
    keys = [KeyRule(p, Action.DROP) for p in DEFAULT_DROP_KEYS]
    patterns = [
        builtin_pattern("bearer_token", Action.MASK),
        builtin_pattern("jwt", Action.MASK),
        builtin_pattern("credit_card", Action.MASK),
        builtin_pattern("email", joinable),
        builtin_pattern("ipv4", joinable),
        builtin_pattern("ipv6", joinable),
    ]
    return keys, patterns


def luhn_valid(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


@dataclass(slots=True)
class RedactionPolicy:
    """Compiled rules that redact values and count what they did (per rule name)."""

    key_rules: list[KeyRule] = field(default_factory=list)
    pattern_rules: list[PatternRule] = field(default_factory=list)
    hash_key: bytes = b""
    counts: dict[str, int] = field(default_factory=dict)
    _key_regexes: list[tuple[re.Pattern[str], KeyRule]] = field(default_factory=list)
    _key_cache: dict[str, KeyRule | None] = field(default_factory=dict)
    _compiled: list[tuple[re.Pattern[str], PatternRule]] = field(default_factory=list)
    _text_cache: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    _matched: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        needs_key = any(r.action is Action.HASH for r in self.key_rules) or any(
            r.action is Action.HASH for r in self.pattern_rules
        )
        if needs_key and not self.hash_key:
            raise RedactionConfigError(
                "a rule hashes values but no hash key is set (OBSVTY_REDACTION_HASH_KEY)"
            )
        self._key_regexes = [
            (re.compile(fnmatch.translate(r.pattern.lower())), r) for r in self.key_rules
        ]
        # masks first: a hash ("hmac:" + hex digits) must not be re-matched by a later rule
        ordered = sorted(self.pattern_rules, key=lambda r: r.action is Action.HASH)
        for rule in ordered:
            if rule.action is Action.DROP:
                raise RedactionConfigError(f"pattern rule {rule.name!r}: use mask or hash")
            try:
                self._compiled.append((re.compile(rule.regex), rule))
            except re.error as exc:
                raise RedactionConfigError(
                    f"pattern rule {rule.name!r}: invalid regex: {exc}"
                ) from None

    @property
    def empty(self) -> bool:
        return not self.key_rules and not self.pattern_rules

    def hash(self, value: str | bytes) -> str:
        data = value.encode() if isinstance(value, str) else value
        digest = hmac.new(self.hash_key, data, hashlib.sha256).hexdigest()
        return HASH_PREFIX + digest[:_HASH_HEX_DIGITS]

    def _count(self, rule: str) -> None:
        self.counts[rule] = self.counts.get(rule, 0) + 1

    def key_rule(self, key: str) -> KeyRule | None:
        cache = self._key_cache
        if key in cache:
            return cache[key]
        lowered = key.lower()
        found = next((r for rx, r in self._key_regexes if rx.match(lowered)), None)
        if len(cache) < _KEY_CACHE_LIMIT:
            cache[key] = found
        return found

    def text(self, value: str) -> str:
        """``value`` with every pattern match masked or hashed (cached per distinct value)."""
        cached = self._text_cache.get(value)
        if cached is not None:
            result, names = cached
            for name in names:
                self._count(name)
            return result
        matched = self._matched
        matched.clear()
        result = value
        for rx, rule in self._compiled:
            hints = rule.hints
            if hints and not any(h in result for h in hints):
                continue
            result = rx.sub(functools.partial(self._replace_match, rule), result)
        names = tuple(matched)
        for name in names:
            self._count(name)
        if len(value) <= _TEXT_CACHE_MAX_LEN and len(self._text_cache) < _TEXT_CACHE_LIMIT:
            self._text_cache[value] = (result, names)
        return result

    def _replace_match(self, rule: PatternRule, match: re.Match[str]) -> str:
        found = match.group(0)
        if rule.luhn and not luhn_valid(found):
            return found
        self._matched.append(rule.name)
        return self.hash(found) if rule.action is Action.HASH else MASK

    def value(self, value: AttributeValue) -> AttributeValue:
        """A value with its text (and nested attributes) redacted; the same object when nothing
        changed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return self.attributes(value)
        if isinstance(value, list):
            new = [self.value(v) for v in value]
            return value if all(a is b for a, b in zip(new, value, strict=True)) else new
        return value

    def attributes(self, attributes: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
        """Attributes redacted by key and by pattern; the same dict when nothing changed."""
        out: dict[str, AttributeValue] | None = None
        by_key = bool(self._key_regexes)
        by_text = bool(self._compiled)
        key_cache = self._key_cache
        for key, value in attributes.items():
            if by_key:
                rule = key_cache[key] if key in key_cache else self.key_rule(key)
                if rule is not None:
                    self._count(rule.name)
                    if out is None:
                        out = dict(attributes)
                    if rule.action is Action.DROP:
                        del out[key]
                    elif rule.action is Action.MASK:
                        out[key] = MASK
                    else:
                        out[key] = self.hash(_canonical(value))
                    continue
            kind = type(value)
            new: AttributeValue
            if kind is str:
                if not by_text:
                    continue
                new = self.text(value)  # type: ignore[arg-type]  # kind is str
            elif kind is dict or kind is list:
                new = self.value(value)
            else:
                continue
            if new is not value:
                if out is None:
                    out = dict(attributes)
                out[key] = new
        return attributes if out is None else out


def _canonical(value: AttributeValue) -> str | bytes:
    if isinstance(value, str | bytes):
        return value
    return repr(_as_stored(value))


def _as_stored(value: AttributeValue) -> AttributeValue:
    """``value`` with NaN and the infinities as ``None``, as typed JSON stores them: the hash of a
    value is then the same whether it is taken before or after the value was stored (the compiled
    decoder's batches hold the stored form)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_as_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    return value
