from __future__ import annotations

import pytest

from obsvty.adapters.storage.duckdb.tables import _hex

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "ids",
    [
        [],
        [b""],
        [bytes(range(16)), b"\xff" * 16, b"\x00" * 16],
        [b"", b"\xab\xcd\xef\x01\x02\x03\x04\x05", b"", b"\x10" * 8],
        [b"\x7f", b"\x80\x00\x01"],
    ],
)
def test_hex_any_id_lengths_equal_lower_case_hex_per_id(ids: list[bytes]) -> None:
    # Arrange
    expected = [i.hex() for i in ids]

    # Act
    column = _hex(ids)

    # Assert
    column.validate(full=True)
    assert column.to_pylist() == expected


def test_hex_many_ids_keeps_every_offset() -> None:
    # Arrange
    ids = [n.to_bytes(8, "big") * (n % 3) for n in range(10_000)]

    # Act
    column = _hex(ids)

    # Assert
    column.validate(full=True)
    assert column.to_pylist() == [i.hex() for i in ids]
