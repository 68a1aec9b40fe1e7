from __future__ import annotations

from pathlib import Path

import pytest

from obsvty.adapters.redaction_rules import build_policy, load_rules_file
from obsvty.application.redaction import Redactor
from obsvty.domain.batches import LogBatch, MetricBatch, MetricDescriptor, SpanBatch
from obsvty.domain.model import Exemplar, InstrumentationScope, Resource, SpanEvent, SpanLink
from obsvty.domain.redaction import (
    MASK,
    Action,
    KeyRule,
    PatternRule,
    RedactionConfigError,
    RedactionPolicy,
    builtin_pattern,
    luhn_valid,
)

pytestmark = pytest.mark.unit

KEY = b"test-key"


def _policy(*patterns: str, action: Action = Action.MASK) -> RedactionPolicy:
    return RedactionPolicy([], [builtin_pattern(p, action) for p in patterns], KEY)


def test_policy_drop_key_glob_removes_attribute_case_insensitively() -> None:
    # Arrange
    policy = RedactionPolicy([KeyRule("*password*", Action.DROP)], [], b"")

    # Act
    out = policy.attributes({"DB.Password": "hunter2", "db.name": "orders"})

    # Assert
    assert out == {"db.name": "orders"}
    assert policy.counts == {"key:*password*": 1}


def test_policy_mask_and_hash_keys_replace_whole_values() -> None:
    # Arrange
    policy = RedactionPolicy(
        [KeyRule("enduser.id", Action.MASK), KeyRule("user.email", Action.HASH)], [], KEY
    )

    # Act
    first = policy.attributes({"enduser.id": 42, "user.email": "a@b.example"})
    second = policy.attributes({"user.email": "a@b.example"})

    # Assert
    assert first["enduser.id"] == MASK
    assert isinstance(first["user.email"], str)
    assert first["user.email"].startswith("hmac:")
    assert len(first["user.email"]) == len("hmac:") + 32
    assert first["user.email"] == second["user.email"]  # joins still work


def test_policy_hash_depends_on_key() -> None:
    # Arrange
    a = RedactionPolicy([KeyRule("k", Action.HASH)], [], b"one")
    b = RedactionPolicy([KeyRule("k", Action.HASH)], [], b"two")

    # Act / Assert
    assert a.attributes({"k": "v"}) != b.attributes({"k": "v"})


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("email", "mail jane.doe+x@corp.example.com now", f"mail {MASK} now"),
        ("credit_card", "card 4111 1111 1111 1111 ok", f"card {MASK} ok"),
        ("credit_card", "order 4111 1111 1111 1112 ok", "order 4111 1111 1111 1112 ok"),
        ("ipv4", "from 192.168.10.254:443", f"from {MASK}:443"),
        ("ipv4", "version 1.2.3", "version 1.2.3"),
        ("ipv6", "peer 2001:db8::8a2e:370:7334 up", f"peer {MASK} up"),
        ("ipv6", "at 12:30:45", "at 12:30:45"),
        ("bearer_token", "Authorization: Bearer abc.DEF-123", f"Authorization: {MASK}"),
        ("jwt", "t=eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl", f"t={MASK}"),
    ],
)
def test_policy_builtin_pattern_masks_only_real_matches(
    pattern: str, text: str, expected: str
) -> None:
    # Arrange
    policy = _policy(pattern)

    # Act
    out = policy.text(text)

    # Assert
    assert out == expected


def test_policy_pattern_hash_replaces_match_in_place() -> None:
    # Arrange
    policy = _policy("email", action=Action.HASH)

    # Act
    out = policy.text("to a@b.example and c@d.example")

    # Assert
    assert out.startswith("to hmac:")
    assert " and hmac:" in out
    assert policy.counts == {"email": 2}


def test_policy_custom_regex_with_global_flag_is_scoped() -> None:
    # Arrange
    policy = RedactionPolicy(
        [],
        [
            PatternRule("order", r"(?i)ord-\d{4}", Action.MASK),
            builtin_pattern("email", Action.MASK),
        ],
        b"",
    )

    # Act
    out = policy.text("ORD-1234 by x@y.example")

    # Assert
    assert out == f"{MASK} by {MASK}"


def test_policy_nested_values_are_redacted_and_unchanged_values_kept_identical() -> None:
    # Arrange
    policy = RedactionPolicy(
        [KeyRule("secret", Action.DROP)], [builtin_pattern("email", Action.MASK)], b""
    )
    clean = {"a": [1, "x"], "b": {"c": "y"}}

    # Act
    out = policy.attributes({"list": ["ok", "me@x.example"], "map": {"secret": 1, "keep": 2}})
    same = policy.attributes(clean)

    # Assert
    assert out == {"list": ["ok", MASK], "map": {"keep": 2}}
    assert same is clean


def test_policy_hash_without_key_is_a_config_error() -> None:
    # Act / Assert
    with pytest.raises(RedactionConfigError, match="OBSVTY_REDACTION_HASH_KEY"):
        RedactionPolicy([KeyRule("x", Action.HASH)], [], b"")


def test_policy_invalid_regex_is_a_config_error() -> None:
    # Act / Assert
    with pytest.raises(RedactionConfigError, match="invalid regex"):
        RedactionPolicy([], [PatternRule("bad", "(unclosed", Action.MASK)], b"")


def test_luhn_valid_accepts_test_card_and_rejects_typo() -> None:
    assert luhn_valid("4111-1111-1111-1111")
    assert not luhn_valid("4111-1111-1111-1112")


def test_build_policy_no_rules_is_none() -> None:
    assert build_policy() is None


def test_build_policy_defaults_without_key_mask_joinable_values() -> None:
    # Arrange
    policy = build_policy(defaults=True)
    assert policy is not None

    # Act
    out = policy.attributes(
        {"client.address": "10.0.0.1", "user": "a@b.example", "api_key": "k", "n": 3}
    )

    # Assert
    assert out == {"client.address": MASK, "user": MASK, "n": 3}


def test_build_policy_defaults_with_key_hash_email() -> None:
    # Arrange
    policy = build_policy(defaults=True, hash_key="k")
    assert policy is not None

    # Act
    out = policy.text("a@b.example")

    # Assert
    assert out.startswith("hmac:")


def test_build_policy_env_pattern_overrides_default_action() -> None:
    # Arrange
    policy = build_policy(defaults=True, patterns=["email:hash"], hash_key="k")
    assert policy is not None

    # Act / Assert
    assert [r.action for r in policy.pattern_rules if r.name == "email"] == [Action.HASH]


def test_load_rules_yaml_and_toml_give_same_policy(tmp_path: Path) -> None:
    # Arrange
    yaml_file = tmp_path / "rules.yaml"
    yaml_file.write_text(
        "drop_keys: [user.ssn]\nhash_keys: [user.id]\npatterns:\n"
        "  - builtin: email\n    action: mask\n"
        "  - {name: order, regex: 'ORD-[0-9]+', action: mask}\n"
    )
    toml_file = tmp_path / "rules.toml"
    toml_file.write_text(
        'drop_keys = ["user.ssn"]\nhash_keys = ["user.id"]\n'
        '[[patterns]]\nbuiltin = "email"\naction = "mask"\n'
        '[[patterns]]\nname = "order"\nregex = "ORD-[0-9]+"\naction = "mask"\n'
    )
    attrs = {"user.ssn": "1", "user.id": "u1", "note": "ORD-77 for a@b.example"}

    # Act
    from_yaml = build_policy(rules_file=yaml_file, hash_key="k")
    from_toml = build_policy(rules_file=toml_file, hash_key="k")

    # Assert
    assert from_yaml is not None
    assert from_toml is not None
    out = from_yaml.attributes(attrs)
    assert out == from_toml.attributes(attrs)
    assert "user.ssn" not in out
    assert out["note"] == f"{MASK} for {MASK}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- a\n- b\n", "mapping"),
        ("colour: red\n", "unknown key"),
        ("patterns: [{builtin: nope}]\n", "unknown built-in"),
        ("patterns: [{builtin: email, action: drop}]\n", "not dropped"),
        ("patterns: [{name: x}]\n", "name and a regex"),
        ("drop_keys: 3\n", "list of strings"),
        ("drop_keys: [\n", "not valid"),
    ],
)
def test_load_rules_bad_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    # Arrange
    path = tmp_path / "rules.yaml"
    path.write_text(content)

    # Act / Assert
    with pytest.raises(RedactionConfigError, match=message):
        build_policy(rules_file=path)


def test_load_rules_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RedactionConfigError, match="cannot read"):
        load_rules_file(tmp_path / "absent.yaml")


def _span_batch(resource: Resource, scope: InstrumentationScope) -> SpanBatch:
    b = SpanBatch()
    for name in ("GET /users/a@b.example", "plain"):
        b.trace_id.append(b"\x01" * 16)
        b.span_id.append(b"\x02" * 8)
        b.parent_span_id.append(b"")
        b.trace_state.append("")
        b.flags.append(0)
        b.name.append(name)
        b.kind.append(2)
        b.start_time_unix_nano.append(1)
        b.end_time_unix_nano.append(2)
        b.attributes.append({"http.request.header.authorization": "Bearer x", "k": "v"})
        b.dropped_attributes_count.append(0)
        b.events.append([SpanEvent(1, "sent to c@d.example", {"e": "x@y.example"})])
        b.dropped_events_count.append(0)
        b.links.append([SpanLink(b"\x03" * 16, b"\x04" * 8, attributes={"l": "q@r.example"})])
        b.dropped_links_count.append(0)
        b.status_code.append(2)
        b.status_message.append("failed for z@z.example")
        b.resource.append(resource)
        b.scope.append(scope)
    return b


def test_redactor_spans_cover_names_events_links_status_resource_and_scope() -> None:
    # Arrange
    resource = Resource({"service.name": "svc", "owner": "o@o.example"})
    scope = InstrumentationScope("lib", attributes={"maintainer": "m@m.example"})
    batch = _span_batch(resource, scope)
    redactor = Redactor(build_policy(defaults=True) or RedactionPolicy())

    # Act
    redactor.apply(batch)

    # Assert
    assert batch.name == [f"GET /users/{MASK}", "plain"]
    assert batch.attributes[0] == {"k": "v"}
    assert batch.events[0][0].name == f"sent to {MASK}"
    assert batch.events[0][0].attributes == {"e": MASK}
    assert batch.links[0][0].attributes == {"l": MASK}
    assert batch.status_message[0] == f"failed for {MASK}"
    assert batch.resource[0].attributes == {"service.name": "svc", "owner": MASK}
    assert batch.resource[0] is batch.resource[1]  # still shared, redacted once
    assert resource.attributes["owner"] == "o@o.example"  # the original is not mutated
    assert batch.scope[0].attributes == {"maintainer": MASK}
    totals = redactor.totals()
    # one span name, two event names and attributes, two links, two status messages; the shared
    # resource and scope once each
    assert totals["email"] == 1 + 4 + 2 + 2 + 1 + 1
    assert totals["key:http.request.header.authorization"] == 2


def test_redactor_logs_body_string_and_map() -> None:
    # Arrange
    b = LogBatch()
    for body in ("login by a@b.example", {"user": "c@d.example", "password": "x"}, None, 5):
        b.time_unix_nano.append(1)
        b.observed_time_unix_nano.append(1)
        b.severity_number.append(9)
        b.severity_text.append("INFO")
        b.body.append(body)
        b.attributes.append({})
        b.dropped_attributes_count.append(0)
        b.flags.append(0)
        b.trace_id.append(b"")
        b.span_id.append(b"")
        b.event_name.append("")
        b.resource.append(Resource())
        b.scope.append(InstrumentationScope())
    redactor = Redactor(build_policy(defaults=True) or RedactionPolicy())

    # Act
    redactor.apply(b)

    # Assert
    assert b.body == [f"login by {MASK}", {"user": MASK}, None, 5]


def test_redactor_metrics_attributes_and_exemplars() -> None:
    # Arrange
    b = MetricBatch()
    b.metric.append(MetricDescriptor("m", "", "1", "gauge"))
    b.start_time_unix_nano.append(0)
    b.time_unix_nano.append(1)
    b.attributes.append({"client.address": "10.1.2.3"})
    b.flags.append(0)
    b.exemplars.append([Exemplar(1, 2.0, {"user": "a@b.example"})])
    for name in (
        "value_int",
        "value_double",
        "count",
        "sum",
        "min",
        "max",
        "scale",
        "zero_count",
        "zero_threshold",
        "positive_offset",
        "negative_offset",
    ):
        getattr(b, name).append(None)
    for name in (
        "bucket_counts",
        "explicit_bounds",
        "positive_bucket_counts",
        "negative_bucket_counts",
        "quantile_values",
    ):
        getattr(b, name).append([])
    b.resource.append(Resource())
    b.scope.append(InstrumentationScope())
    redactor = Redactor(build_policy(defaults=True, hash_key="k") or RedactionPolicy())

    # Act
    redactor.apply(b)

    # Assert
    address = b.attributes[0]["client.address"]
    assert isinstance(address, str)
    assert address.startswith("hmac:")
    assert b.exemplars[0][0].filtered_attributes["user"] != "a@b.example"
