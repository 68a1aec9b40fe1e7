"""Which texts a redaction rule could change, told by substring searches and one RE2 expression.

The compiled decoder's batches hold attributes, events, links, exemplars and log bodies as typed
JSON text, and names and status messages as plain text. Decoding every row to redact it would cost
what the compiled decoder saves, so each rule gets a *superset* expression in RE2 syntax (the
engine of Arrow's ``match_substring_regex``): it matches every text in which the rule could fire,
and may match more (those rows are decoded for nothing), never less. A row no superset matches is
left as it is: no rule fires on its first value, so none changes it, and so on for the next.

Supersets read text with its ASCII letters lowered (key globs ignore case; pattern supersets are
spelled in lower case, which only widens them). A rule whose every match holds a literal (a key
glob's, ``@`` of an e-mail address, a custom expression's) is looked for by that literal alone,
with a substring search; the others (the digits of cards and IP addresses...) by one expression,
one pass of one automaton (Arrow compiles it afresh at each call, so there is one call per batch).
How the supersets stay sound:

* typed JSON escapes only ``"``, ``\\`` and the control characters; what a superset looks for
  literally is outside those, so a match in a string value is also a match in its JSON text;
* Python's ``\\d`` is any Unicode decimal digit, RE2's ASCII only: digits are spelled as a class
  of every decimal digit Python knows (coarsened into a few ranges), or ``[0-9]`` for texts that
  are all ASCII (:class:`Prefilters` has both forms);
* key globs match ``key.lower()``: the glob's longest literal run is looked for, plus, in
  non-ASCII texts, the two characters whose lower case is an ASCII letter (KELVIN SIGN, LATIN
  CAPITAL LETTER I WITH DOT ABOVE), which ``ascii_lower`` leaves as they are;
* lookarounds and word boundaries (RE2 has none of the former) are left out: fewer constraints.

A rule that cannot be narrowed (a custom expression with no literal every match contains, a glob
with a character set) makes every text with a string (or a key) in it a candidate.
"""

from __future__ import annotations

import functools
import importlib
import re
import string
from dataclasses import dataclass
from typing import Any

from obsvty.domain.redaction import BUILTIN_PATTERNS, KeyRule, PatternRule, RedactionPolicy

_IN_STRING = r'^(?:[^"]|"(?:[^"\\]|\\.)*")*"(?:[^"\\]|\\.)*'
"""From the start of a JSON document to a point inside one of its strings (keys or values), so
that what follows can only match string content, never a number (event times have 19 digits)."""

_CARD = r"\d(?:[ \-]?\d){12}"

_BUILTIN_SUPERSETS: dict[str, tuple[str, str]] = {
    BUILTIN_PATTERNS["email"][0]: (r"[a-z0-9._%+\-]@[a-z0-9\-]",) * 2,
    BUILTIN_PATTERNS["credit_card"][0]: (_CARD, _IN_STRING + _CARD),
    BUILTIN_PATTERNS["ipv4"][0]: (r"\d\.\d{1,3}\.\d{1,3}\.\d",) * 2,
    BUILTIN_PATTERNS["ipv6"][0]: (r":[0-9a-f]{0,4}:",) * 2,  # seven colons, or "::"
    BUILTIN_PATTERNS["bearer_token"][0]: ("bearer",) * 2,  # its hints, lowered
    BUILTIN_PATTERNS["jwt"][0]: (r"eyj[a-z0-9_\-]{4}",) * 2,
}
"""Supersets of the built-in patterns by their regex (a custom rule may reuse a built-in's name),
over text with its ASCII letters lowered, as (plain text, typed JSON); ``\\d`` stands for the
digit class. Short on purpose: RE2 scans fastest with few automaton states."""

_BUILTIN_LITERALS = {
    BUILTIN_PATTERNS["email"][0]: "@",
    BUILTIN_PATTERNS["bearer_token"][0]: "bearer",
    BUILTIN_PATTERNS["jwt"][0]: "eyj",
}
"""What every match of a built-in's superset contains (lowered), if anything."""

_ANY_STRING = '"'
_ANY_KEY = '":'
_UPPER_TO_ASCII = {"i": "\u0130", "k": "\u212a"}
"""The only non-ASCII characters whose ``str.lower()`` holds an ASCII letter (checked over all of
Unicode by the tests)."""


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _char(c: str) -> str:
    """``c`` in an RE2 expression over ASCII-lowered text: ASCII letters lowered, digits as they
    are, anything else by code."""
    if c.isascii() and c.isalnum():
        return c.translate(_ASCII_LOWER)
    return f"\\x{{{ord(c):x}}}"


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


@dataclass(frozen=True, slots=True)
class _Part:
    """One rule's superset: ``json`` over typed JSON, ``text`` over plain text (``None``: the rule
    has none: a key rule, or a pattern that cannot be narrowed), ``\\d`` for digits; and what
    every match contains (``''``: nothing known), for all-ASCII and for any text: a part with a
    literal is looked for by its literal alone (a substring search), the others by expression."""

    json: str
    text: str | None
    literal: str
    literal_unicode: str


def _lowered(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def _pattern_part(rule: PatternRule) -> _Part:
    builtin = _BUILTIN_SUPERSETS.get(rule.regex)
    if builtin is not None:
        literal = _BUILTIN_LITERALS.get(rule.regex, "")
        return _Part(builtin[1], builtin[0], literal, literal)
    literal = _required_literal(rule.regex)
    if literal:
        expression = "".join(map(_char, literal))
        return _Part(expression, expression, _lowered(literal), _lowered(literal))
    hints = [h for h in rule.hints if h and not any(c in '"\\' or c < " " for c in h)]
    if hints and len(hints) == len(rule.hints):
        expression = "|".join("".join(map(_char, h)) for h in hints)
        one = _lowered(hints[0]) if len({_lowered(h) for h in hints}) == 1 else ""
        return _Part(expression, expression, one, one)
    return _Part(_ANY_STRING, None, _ANY_STRING, _ANY_STRING)


def _glob_literal(glob: str) -> str:
    """The longest run of plain characters of a lowered glob, as typed JSON writes them
    unescaped; ``''`` for a glob with a character set (``[...]``) or with none."""
    lowered = glob.lower()
    if "[" in lowered:
        return ""
    parts = re.split(r'[*?"\\]|[^\x20-\x7e]', lowered)
    return max(parts, key=len)


def _key_part(rule: KeyRule) -> tuple[_Part, _Part]:
    """For ASCII texts and for any text: over typed JSON with its ASCII letters lowered."""
    literal = _glob_literal(rule.pattern)
    if not literal:
        return _Part(_ANY_KEY, None, _ANY_KEY, _ANY_KEY), _Part(_ANY_KEY, None, _ANY_KEY, _ANY_KEY)
    ascii_only = "".join(map(_char, literal))
    out = []
    for c in literal:
        upper = _UPPER_TO_ASCII.get(c, "")
        out.append(f"[{c}{_char(upper)}]" if upper else _char(c))
    special = any(c in _UPPER_TO_ASCII for c in literal)
    return (
        _Part(ascii_only, None, literal, literal),
        _Part("".join(out), None, "" if special else literal, "" if special else literal),
    )


Plan = tuple[tuple[bytes, ...], str | None]
"""Literals any candidate contains one of, and an expression for the rules without one."""


class Prefilters:
    """How to find the candidates of one policy in text with its ASCII letters lowered (Arrow's
    ``ascii_lower``, ``bytes.lower``): the literals of most rules (a key glob's, ``@`` of an
    e-mail address, a custom expression's) by substring search, and the rest (digits of cards and
    IP addresses...) by one expression, for all-ASCII texts and for any text."""

    __slots__ = ("_plans", "every_text")

    def __init__(self, policy: RedactionPolicy) -> None:
        patterns = [_pattern_part(r) for r in policy.pattern_rules]
        keys = [_key_part(r) for r in policy.key_rules]
        self.every_text = any(p.text is None for p in patterns)
        """Some pattern rule cannot be narrowed (its expression may even match an empty text):
        every plain text is a candidate."""
        needs_digits = any(r"\d" in p.json for p in patterns)
        digits = _unicode_digits() if needs_digits else "[0-9]"
        self._plans: dict[tuple[bool, bool], Plan] = {}
        for ascii_only in (True, False):
            parts = [*patterns, *(k[0] if ascii_only else k[1] for k in keys)]
            for json in (True, False):
                self._plans[json, ascii_only] = _plan(
                    [p for p in parts if json or p.text is not None],
                    json=json,
                    ascii_only=ascii_only,
                    digits="[0-9]" if ascii_only else digits,
                )

    def plan(self, *, json: bool, ascii_only: bool) -> Plan:
        """For typed JSON documents, or plain texts (pattern rules only; see
        :attr:`every_text`)."""
        return self._plans[json, ascii_only]


_MAX_SEARCHES = 4
"""Literals looked for one substring search each; with more, they join the expression: one pass of
the automaton costs about as much as four searches through a batch's text."""


def _plan(parts: list[_Part], *, json: bool, ascii_only: bool, digits: str) -> Plan:
    literals = {}
    expressions = []
    for p in parts:
        literal = p.literal if ascii_only else p.literal_unicode
        expression = (p.json if json else p.text or "").replace(r"\d", digits)
        if literal:
            literals[literal.encode()] = expression
        else:
            expressions.append(expression)
    if len(literals) > _MAX_SEARCHES:
        expressions += literals.values()
        literals = {}
    unique = dict.fromkeys(expressions)
    regex = "(?s)" + "|".join(f"(?:{e})" for e in unique) if unique else None
    return tuple(literals), regex
