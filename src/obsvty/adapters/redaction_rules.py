"""Load redaction rules from a YAML or TOML file and from settings into a policy.

File format (YAML shown; TOML has the same keys)::

    defaults: true            # start from the ready rule set
    drop_keys: ["user.ssn", "*.private.*"]
    mask_keys: ["enduser.id"]
    hash_keys: ["user.email"]
    patterns:
      - builtin: email        # email, credit_card, ipv4, ipv6, bearer_token, jwt
        action: hash          # mask or hash
      - name: order_id
        regex: "ORD-[0-9]{8}"
        action: mask
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from obsvty.domain.redaction import (
    Action,
    KeyRule,
    PatternRule,
    RedactionConfigError,
    RedactionPolicy,
    builtin_pattern,
    default_rules,
)

_FILE_KEYS = frozenset({"defaults", "drop_keys", "mask_keys", "hash_keys", "patterns"})


def load_rules_file(path: Path) -> dict[str, Any]:
    """The rules file as a mapping; YAML unless the name ends in ``.toml``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RedactionConfigError(f"cannot read redaction rules {path}: {exc}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise RedactionConfigError(f"redaction rules {path} are not valid: {exc}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise RedactionConfigError(f"redaction rules {path} must be a mapping at the top level")
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise RedactionConfigError(f"redaction rules {path}: unknown key(s) {', '.join(unknown)}")
    return data


def _strings(value: object, what: str) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise RedactionConfigError(f"{what} must be a list of strings")


def _action(value: object, where: str) -> Action:
    try:
        action = Action(str(value).lower())
    except ValueError:
        raise RedactionConfigError(f"{where}: action must be mask or hash, not {value!r}") from None
    if action is Action.DROP:
        raise RedactionConfigError(f"{where}: a pattern can be masked or hashed, not dropped")
    return action


def _pattern(entry: object) -> PatternRule:
    if isinstance(entry, str):  # "email" or "email:hash"
        name, _, action = entry.partition(":")
        return builtin_pattern(name.strip(), _action(action or "mask", f"pattern {name}"))
    if not isinstance(entry, Mapping):
        raise RedactionConfigError(f"a pattern must be a mapping or a name, not {entry!r}")
    action = entry.get("action", "mask")
    if "builtin" in entry:
        name = str(entry["builtin"])
        return builtin_pattern(name, _action(action, f"pattern {name}"))
    custom, regex = entry.get("name"), entry.get("regex")
    if not isinstance(custom, str) or not isinstance(regex, str) or not custom or not regex:
        raise RedactionConfigError(f"a custom pattern needs a name and a regex: {dict(entry)!r}")
    return PatternRule(custom, regex, _action(action, f"pattern {custom}"))


def build_policy(
    *,
    defaults: bool = False,
    rules_file: Path | None = None,
    drop_keys: Iterable[str] = (),
    mask_keys: Iterable[str] = (),
    hash_keys: Iterable[str] = (),
    patterns: Iterable[str] = (),
    hash_key: str = "",
) -> RedactionPolicy | None:
    """The policy the settings and file describe, or ``None`` when there is no rule at all."""
    spec: dict[str, Any] = load_rules_file(rules_file) if rules_file is not None else {}
    key_rules: list[KeyRule] = []
    pattern_rules: list[PatternRule] = []
    if defaults or spec.get("defaults") is True:
        key_rules, pattern_rules = default_rules(can_hash=bool(hash_key))
    for action, from_env, field in (
        (Action.DROP, drop_keys, "drop_keys"),
        (Action.MASK, mask_keys, "mask_keys"),
        (Action.HASH, hash_keys, "hash_keys"),
    ):
        names = [*from_env, *_strings(spec.get(field, []), field)]
        key_rules.extend(KeyRule(n, action) for n in names)
    extra = [*patterns, *(spec.get("patterns") or [])]
    pattern_rules.extend(_pattern(p) for p in extra)
    if not key_rules and not pattern_rules:
        return None
    # a later rule for the same name replaces an earlier one (e.g. email: hash over the default)
    by_name = {r.name: r for r in pattern_rules}
    return RedactionPolicy(key_rules, list(by_name.values()), hash_key.encode())
