"""bench.redaction: the cost of redaction per item on both decoders."""

from __future__ import annotations

import pytest
from bench import redaction
from bench.payloads import factory_for

from obsvty.adapters.otlp.codec import CODECS
from obsvty.domain.model import Signal

pytestmark = pytest.mark.unit


def test_with_pii_puts_pii_and_a_password_on_some_items() -> None:
    # Arrange
    payload = factory_for("logs", 4).payload(0)

    # Act
    request = CODECS[Signal.LOGS].request_type.FromString(
        redaction.with_pii(payload, Signal.LOGS, 2)
    )

    # Assert
    keys = [[kv.key for kv in record.attributes] for record in redaction._items(request)]
    assert ["enduser.id" in k for k in keys] == [True, False, True, False]
    assert ["db.password" in k for k in keys] == [True, False, False, False]


@pytest.mark.parametrize("signal", ["traces", "metrics"])
def test_measure_gives_both_paths_for_every_rule_set(signal: str) -> None:
    result = redaction.measure(signal, items=4, pii_every=2, requests=1, rounds=1, seconds=0.01)

    assert set(result) == set(redaction.rule_sets())
    assert all(row["native"] > 0 and row["reference"] > 0 for row in result.values())


def test_main_prints_a_line_per_rule_set(capsys: pytest.CaptureFixture[str]) -> None:
    redaction.main(["--signal", "logs", "--items", "3", "--rounds", "1", "--seconds", "0.01"])

    out = capsys.readouterr().out
    assert "logs, 3 items per request" in out
    assert out.count(" us  reference ") == len(redaction.rule_sets())
