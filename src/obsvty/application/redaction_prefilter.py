"""Which texts a redaction rule could change, told by one RE2 expression per rule set.

The compiled decoder's batches hold attributes, events, links, exemplars and log bodies as typed
JSON text, and names and status messages as plain text. Decoding every row to redact it would cost
what the compiled decoder saves, so each rule gets a *superset* expression in RE2 syntax (the
engine of Arrow's ``match_substring_regex``): it matches every text in which the rule could fire,
and may match more (those rows are decoded for nothing), never less. A row no superset matches is
left as it is: no rule fires on its first value, so none changes it, and so on for the next.

How the supersets stay sound:

* typed JSON escapes only ``"``, ``\\`` and the control characters; what a superset looks for
  literally is outside those, so a match in a string value is also a match in its JSON text;
* Python's ``\\d`` is any Unicode decimal digit, RE2's ASCII only: digits are spelled as a class
  of every decimal digit Python knows (coarsened into a few ranges), or ``[0-9]`` for texts that
  are all ASCII (:class:`Prefilters` has both forms);
* key globs match ``key.lower()``: the glob's longest literal run is looked for with each letter
  in either case, plus, for non-ASCII texts, the two characters whose lower case is an ASCII
  letter (KELVIN SIGN, LATIN CAPITAL LETTER I WITH DOT ABOVE);
* lookarounds and word boundaries (RE2 has no lookarounds) are left out: fewer constraints.

A rule that cannot be narrowed (a custom expression with no literal every match contains, a glob
with a character set) makes every text with a string in it a candidate.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass
from typing import Any

from obsvty.domain.redaction import BUILTIN_PATTERNS, KeyRule, PatternRule, RedactionPolicy

_IN_STRING = r'^(?:[^"]|"(?:[^"\\]|\\.)*")*"(?:[^"\\]|\\.)*'
"""From the start of a JSON document to a point inside one of its strings (keys or values), so
that what follows can only match string content, never a number (event times have 19 digits)."""

_CARD = r"\d(?:[ \-]?\d){12}"

_BUILTIN_SUPERSETS: dict[str, tuple[str, str]] = {
    BUILTIN_PATTERNS["email"][0]: (r"[A-Za-z0-9._%+\-]@[A-Za-z0-9\-]",) * 2,
    BUILTIN_PATTERNS["credit_card"][0]: (_CARD, _IN_STRING + _CARD),
    BUILTIN_PATTERNS["ipv4"][0]: (r"\d\.\d{1,3}\.\d{1,3}\.\d",) * 2,
    BUILTIN_PATTERNS["ipv6"][0]: (r":[0-9A-Fa-f]{0,4}:",) * 2,  # seven colons, or "::"
    BUILTIN_PATTERNS["bearer_token"][0]: ("[Bb]earer|BEARER",) * 2,  # its hints
    BUILTIN_PATTERNS["jwt"][0]: (r"eyJ[A-Za-z0-9_\-]{4}",) * 2,
}
"""Supersets of the built-in patterns by their regex (a custom rule may reuse a built-in's name),
as (plain text, typed JSON); ``\\d`` stands for the digit class. Short on purpose: RE2 scans
fastest with few automaton states."""

_ANY_STRING = '"'
_ANY_KEY = '":'
_UPPER_TO_ASCII = {"i": "\u0130", "k": "\u212a"}
"""The only non-ASCII characters whose ``str.lower()`` holds an ASCII letter (checked over all of
Unicode by the tests)."""


def _char(c: str) -> str:
    """``c`` in an RE2 expression: ASCII letters and digits as they are, anything else by code."""
    return c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}"


@functools.cache
def _unicode_digits() -> str:
    """A class of every character Python's ``\\d`` matches (``str.isdecimal``), its non-ASCII
    ranges merged where they are close: a few ranges compile fast, and the big blocks of letters
    (CJK, Hangul) hold no digit, so stay out."""
    ranges: list[list[int]] = []
    for code in range(0x80, 0x110000):
        if chr(code).isdecimal():
            if ranges and code - ranges[-1][1] <= 0x800:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "[0-9" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


def _required_literal(regex: str) -> str:
    """The longest run of characters every match of ``regex`` contains, as typed JSON writes them
    unescaped; ``''`` when there is none (or the expression ignores case)."""
    try:  # the stdlib's own parser of `re`; private, so any surprise means "no literal"
        parser: Any = importlib.import_module("re._parser")
        parsed = parser.parse(regex)
        if parsed.state.flags & (re.IGNORECASE | re.LOCALE):
            return ""
        runs = [""]
        for op, value in parsed:
            if op is parser.LITERAL and value >= 0x20 and chr(value) not in '"\\':
                runs[-1] += chr(value)
            else:
                runs.append("")
    except Exception:  # a narrowing, never a requirement
        return ""
    return max(runs, key=len)


def _pattern_superset(rule: PatternRule, *, json: bool) -> str | None:
    builtin = _BUILTIN_SUPERSETS.get(rule.regex)
    if builtin is not None:
        return builtin[json]
    literal = _required_literal(rule.regex)
    if literal:
        return "".join(map(_char, literal))
    hints = [h for h in rule.hints if h and not any(c in '"\\' or c < " " for c in h)]
    if hints and len(hints) == len(rule.hints):
        return "|".join("".join(map(_char, h)) for h in hints)
    return None


def _glob_literal(glob: str) -> str:
    """The longest run of plain characters of a lowered glob, as typed JSON writes them
    unescaped; ``''`` for a glob with a character set (``[...]``) or with none."""
    lowered = glob.lower()
    if "[" in lowered:
        return ""
    parts = re.split(r'[*?"\\]|[^\x20-\x7e]', lowered)
    return max(parts, key=len)


def _key_superset(rule: KeyRule, *, unicode: bool) -> str:
    """Over typed JSON with its ASCII letters lowered."""
    literal = _glob_literal(rule.pattern)
    if not literal:
        return _ANY_KEY
    out = []
    for c in literal:
        upper = _UPPER_TO_ASCII.get(c, "") if unicode else ""
        out.append(f"[{c}{_char(upper)}]" if upper else _char(c))
    return "".join(out)


def _combine(parts: list[str], digits: str) -> str | None:
    if not parts:
        return None
    unique = dict.fromkeys(p.replace(r"\d", digits) for p in parts)
    return "(?s)" + "|".join(f"(?:{p})" for p in unique)


@dataclass(frozen=True, slots=True)
class Prefilters:
    """The superset expressions of one policy, each for all-ASCII texts and for any text (the
    ``*_ascii`` and ``*_unicode`` fields; ``None``: the policy has no such rule):

    * ``patterns``: pattern rules, over typed JSON;
    * ``keys``: key rules, over typed JSON with its ASCII letters lowered (``ascii_lower``);
    * ``text``: pattern rules, over plain text; ``every_text``: some rule cannot be narrowed
      (its expression may even match an empty text), so every plain text is a candidate."""

    patterns_ascii: str | None
    patterns_unicode: str | None
    keys_ascii: str | None
    keys_unicode: str | None
    text_ascii: str | None
    text_unicode: str | None
    every_text: bool

    def patterns(self, *, ascii_only: bool) -> str | None:
        return self.patterns_ascii if ascii_only else self.patterns_unicode

    def keys(self, *, ascii_only: bool) -> str | None:
        return self.keys_ascii if ascii_only else self.keys_unicode

    def text(self, *, ascii_only: bool) -> str | None:
        return self.text_ascii if ascii_only else self.text_unicode


def prefilters(policy: RedactionPolicy) -> Prefilters:
    patterns = policy.pattern_rules
    texts = [_pattern_superset(r, json=False) for r in patterns]
    jsons = [_pattern_superset(r, json=True) or _ANY_STRING for r in patterns]
    narrowed = [t for t in texts if t is not None]
    digits = _unicode_digits() if any(r"\d" in p for p in [*narrowed, *jsons]) else "[0-9]"
    return Prefilters(
        patterns_ascii=_combine(jsons, "[0-9]"),
        patterns_unicode=_combine(jsons, digits),
        keys_ascii=_combine([_key_superset(r, unicode=False) for r in policy.key_rules], ""),
        keys_unicode=_combine([_key_superset(r, unicode=True) for r in policy.key_rules], ""),
        text_ascii=_combine(narrowed, "[0-9]"),
        text_unicode=_combine(narrowed, digits),
        every_text=len(narrowed) < len(texts),
    )
