"""bench.decode: the in-process decode cost per item, compiled decoder against the reference."""

from __future__ import annotations

import math

import pytest
from bench import decode

from obsvty.adapters.otlp import native

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_measure_metrics_gives_both_costs_per_item(encoding: str) -> None:
    result = decode.measure("metrics", encoding, items=5, rounds=1, seconds=0.01)

    assert result["reference"] > 0
    if native.AVAILABLE:
        assert 0 < result["native"] < math.inf
    else:
        assert math.isnan(result["native"])


def test_main_prints_a_line_per_decoder(capsys: pytest.CaptureFixture[str]) -> None:
    decode.main(["--signal", "logs", "--items", "3", "--rounds", "1", "--seconds", "0.01"])

    out = capsys.readouterr().out
    assert "logs over protobuf, 3 items per request" in out
    assert "reference" in out


def test_main_mongodb_prints_the_decodes_alone(capsys: pytest.CaptureFixture[str]) -> None:
    decode.main(
        [
            "--signal",
            "metrics",
            "--items",
            "3",
            "--rounds",
            "1",
            "--seconds",
            "0.01",
            "--store",
            "mongodb",
        ]
    )

    out = capsys.readouterr().out
    assert "mongodb rows" in out
    assert "of which reference decode" in out


def test_measure_mongodb_documents_gives_both_costs_and_decodes_per_item() -> None:
    result = decode.measure("traces", "protobuf", items=5, rounds=1, seconds=0.01, store="mongodb")

    assert result["reference"] > 0
    assert result["reference decode"] > 0
    if native.AVAILABLE:
        assert 0 < result["native"] < math.inf
        assert 0 < result["native decode"] < math.inf
