"""The span key set (``adapters/storage/duckdb/span_keys.py``): the compiled set answers as
the pure-Python reference, keys become members only on commit, the oldest leave past capacity,
and malformed Arrow buffers are refused rather than read out of bounds."""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obsvty.adapters.storage.duckdb import span_keys
from obsvty.adapters.storage.duckdb.span_keys import ReferenceSpanKeys, SpanKeys

pytestmark = pytest.mark.unit

needs_native = pytest.mark.skipif(
    span_keys._NATIVE is None, reason="OBSVTY_NO_EXTENSIONS: no compiled extension"
)
IMPLEMENTATIONS = [
    pytest.param(True, marks=needs_native, id="native"),
    pytest.param(False, id="py"),
]


def _trace(n: int) -> str:
    return f"{n:032x}"


def _span(n: int) -> str:
    return f"{n:016x}"


def _ids(pairs: list[tuple[str | None, str | None]]) -> pa.Table:
    return pa.table(
        {
            "trace_id": pa.array([t for t, _ in pairs], pa.string()),
            "span_id": pa.array([s for _, s in pairs], pa.string()),
        }
    )


def _keys(numbers: list[int]) -> pa.Table:
    return _ids([(_trace(n // 3), _span(n)) for n in numbers])


def _mask(mask: pa.ChunkedArray | None, rows: int) -> list[bool]:
    return [True] * rows if mask is None else mask.to_pylist()


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
def test_span_keys_repeats_within_one_write_keeps_the_first(native: bool) -> None:
    # Arrange
    keys = SpanKeys(10, native=native)

    # Act
    keep, odd = keys.new_rows(_keys([1, 2, 1, 3, 2]))

    # Assert
    assert _mask(keep, 5) == [True, True, False, True, False]
    assert odd is None


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
def test_span_keys_staged_keys_are_members_only_after_commit(native: bool) -> None:
    # Arrange
    keys = SpanKeys(10, native=native)
    keys.new_rows(_keys([1, 2]))

    # Act
    before = len(keys)
    keys.commit()

    # Assert
    assert (before, len(keys)) == (0, 2)
    keep, _ = keys.new_rows(_keys([1, 2, 3]))
    assert _mask(keep, 3) == [False, False, True]


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
def test_span_keys_discarded_write_registers_nothing(native: bool) -> None:
    # Arrange
    keys = SpanKeys(10, native=native)
    keys.new_rows(_keys([1, 2]))

    # Act
    keys.discard()
    keys.commit()

    # Assert
    assert len(keys) == 0
    keep, _ = keys.new_rows(_keys([1, 2]))
    assert keep is None


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
def test_span_keys_past_capacity_the_oldest_leave(native: bool) -> None:
    # Arrange
    keys = SpanKeys(3, native=native)
    for number in range(5):  # one write each: 0 and 1 leave
        keys.new_rows(_keys([number]))
        keys.commit()

    # Act
    keep, _ = keys.new_rows(_keys([0, 1, 2, 3, 4]))

    # Assert
    assert len(keys) == 3
    assert _mask(keep, 5) == [True, True, False, False, False]


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
def test_span_keys_odd_ids_are_flagged_and_never_registered(native: bool) -> None:
    # Arrange
    keys = SpanKeys(10, native=native)
    rows = _ids(
        [
            (_trace(1), _span(1)),
            (None, _span(1)),
            (_trace(1), None),
            (_trace(0xABC).upper(), _span(1)),
            (_trace(1), _span(1)[:-1]),
            ("", ""),
            (_trace(1)[:-1] + "g", _span(1)),
        ]
    )

    # Act
    keep, odd = keys.new_rows(rows)
    keys.commit()

    # Assert
    assert _mask(keep, 7) == [True] + [False] * 6
    assert odd is not None
    assert odd.to_pylist() == [False] + [True] * 6
    assert len(keys) == 1


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
@pytest.mark.parametrize("char", ["/", ":", "`", "g", "A", "F", " ", "\x00", "\x7f", "é"])
def test_span_keys_id_with_a_byte_next_to_the_hex_digits_is_odd(native: bool, char: str) -> None:
    # Arrange: the characters just outside 0-9 and a-f, upper case, and a 2-byte character
    keys = SpanKeys(10, native=native)
    trace, span = _trace(0xABCDEF), _span(0xFEDCBA)
    rows = _ids([(trace[:-1] + char, span), (trace, char + span[1:]), (trace, span)])

    # Act
    keep, odd = keys.new_rows(rows)

    # Assert
    assert _mask(keep, 3) == [False, False, True]
    assert odd is not None
    assert odd.to_pylist() == [True, True, False]


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
def test_span_keys_large_string_ids_answer_as_string_ids(native: bool) -> None:
    # Arrange
    keys = SpanKeys(10, native=native)
    table = _keys([1, 2, 1])
    large = table.cast(pa.schema([("trace_id", pa.large_string()), ("span_id", pa.large_string())]))

    # Act
    keep, _ = keys.new_rows(large)

    # Assert
    assert _mask(keep, 3) == [True, True, False]


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
def test_span_keys_sliced_ids_of_another_type_answer_as_string_ids(native: bool) -> None:
    # Arrange: large strings and an all-null column, sliced, so each is cast with an offset
    # (found by the span-keys fuzz target: the offset of the array before the cast was used)
    keys = SpanKeys(10, native=native)
    table = pa.table(
        {
            "trace_id": pa.array([_trace(0), _trace(1), _trace(1)], pa.large_string()),
            "span_id": pa.array([_span(0), _span(1), _span(1)], pa.large_string()),
        }
    ).slice(1)
    nulls = pa.table({"trace_id": pa.array([_trace(1)] * 2), "span_id": pa.nulls(2)}).slice(1)

    # Act
    keep, _ = keys.new_rows(table)
    keep_nulls, odd = keys.new_rows(nulls)

    # Assert
    assert _mask(keep, 2) == [True, False]
    assert _mask(keep_nulls, 1) == [False]
    assert odd is not None
    assert odd.to_pylist() == [True]


@pytest.mark.parametrize("native", IMPLEMENTATIONS)
def test_span_keys_several_chunks_are_one_write(native: bool) -> None:
    # Arrange: a repeat across chunks, and columns chunked differently
    keys = SpanKeys(10, native=native)
    table = pa.concat_tables([_keys([1, 2, 3]), _keys([3, 4]), _keys([1])])
    table = table.set_column(1, "span_id", table["span_id"].combine_chunks())

    # Act
    keep, _ = keys.new_rows(table)

    # Assert
    assert _mask(keep, 6) == [True, True, True, False, True, False]


@needs_native
def test_span_keys_large_write_gives_its_staging_memory_back() -> None:
    # Arrange
    keys = SpanKeys(300_000, native=True)
    small = keys._set._native.nbytes  # type: ignore[attr-defined]

    # Act
    keys.new_rows(_keys(list(range(200_000))))
    keys.commit()

    # Assert
    assert len(keys) == 200_000
    assert keys._set._native.nbytes == small  # type: ignore[attr-defined]


# --- the compiled set against the reference: random writes, repeats, commits, discards, evictions

ids_pool = st.integers(min_value=0, max_value=40)
odd_ids = st.sampled_from([None, "", "abc", "X" * 32, "0" * 31, "0" * 33])


@st.composite
def writes(draw: Any) -> list[tuple[list[tuple[str | None, str | None]], bool, int]]:
    """Writes, each: its rows, whether it commits, and where its table is cut into chunks."""
    out = []
    for _ in range(draw(st.integers(1, 12))):
        rows: list[tuple[str | None, str | None]] = []
        for _ in range(draw(st.integers(0, 30))):
            if draw(st.integers(0, 15)) == 0:
                rows.append((draw(odd_ids), draw(st.sampled_from([_span(1), None, "0" * 15]))))
            else:
                n = draw(ids_pool)
                rows.append((_trace(n % 4), _span(n)))
        out.append((rows, draw(st.booleans()), draw(st.integers(0, max(0, len(rows))))))
    return out


@needs_native
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(capacity=st.integers(1, 20), plan=writes())
def test_span_keys_native_answers_as_the_reference(
    capacity: int, plan: list[tuple[list[tuple[str | None, str | None]], bool, int]]
) -> None:
    # Arrange
    native, reference = SpanKeys(capacity, native=True), SpanKeys(capacity, native=False)

    for rows, commits, cut in plan:
        table = _ids(rows)
        table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])  # offsets != 0

        # Act
        got = [_as_lists(native.new_rows(table), len(rows))]
        want = [_as_lists(reference.new_rows(table), len(rows))]
        for keys in (native, reference):
            keys.commit() if commits else keys.discard()

        # Assert
        assert got == want
        assert len(native) == len(reference)


def _as_lists(
    masks: tuple[pa.ChunkedArray | None, pa.ChunkedArray | None], rows: int
) -> tuple[list[bool], list[bool]]:
    keep, odd = masks
    return _mask(keep, rows), [False] * rows if odd is None else odd.to_pylist()


# --- the compiled set's checks of the buffers it is given


def _native_set() -> Any:
    assert span_keys._NATIVE is not None
    return span_keys._NATIVE.SpanKeys(4, os.urandom(16))


def _offsets(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "little", signed=True) for v in values)


TRACE = _trace(1).encode()
SPAN = _span(1).encode()


@needs_native
@pytest.mark.parametrize(
    ("trace_buffers", "length", "reason"),
    [
        ((None, _offsets(0, 32), TRACE, 0), 2, "offsets shorter"),
        ((None, _offsets(0, 33), TRACE, 0), 1, "out of bounds"),
        ((None, _offsets(5, 4), TRACE, 0), 1, "out of bounds"),
        ((None, _offsets(-1, 31), TRACE, 0), 1, "out of bounds"),
        ((None, _offsets(0, 32), TRACE, -1), 1, "negative"),
        ((b"", _offsets(0, 32), TRACE, 0), 1, "validity"),
        ((None, _offsets(0, 32), None, 0), 1, "no data"),
    ],
)
def test_span_keys_native_malformed_buffers_raise_value_error(
    trace_buffers: tuple[Any, ...], length: int, reason: str
) -> None:
    # Arrange
    native = _native_set()
    span_buffers = (None, _offsets(0, 16, 32), SPAN * 2, 0)

    # Act / Assert
    with pytest.raises(ValueError, match=reason):
        native.stage(*trace_buffers, *span_buffers, length)


@needs_native
@pytest.mark.parametrize(
    ("capacity", "seed"), [(0, bytes(16)), (2**30 + 1, bytes(16)), (4, bytes(15))]
)
def test_span_keys_native_bad_capacity_or_seed_raise_value_error(
    capacity: int, seed: bytes
) -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="capacity"):
        span_keys._NATIVE.SpanKeys(capacity, seed)  # type: ignore[union-attr]


def test_reference_span_keys_capacity_below_one_raises_value_error() -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="capacity"):
        ReferenceSpanKeys(0)


def test_span_keys_native_asked_for_without_the_extension_raises_runtime_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange: a build without the compiled extension (as under OBSVTY_NO_EXTENSIONS)
    monkeypatch.setattr(span_keys, "_NATIVE", None)

    # Act / Assert
    with pytest.raises(RuntimeError, match="not available"):
        SpanKeys(10, native=True)
    assert isinstance(SpanKeys(10)._set, ReferenceSpanKeys)
