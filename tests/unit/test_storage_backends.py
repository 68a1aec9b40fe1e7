"""The composition root's storage table: ``OBSVTY_STORAGE`` picks the backend's factory, and the
bundle says what the backend offers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from bench.payloads import factory_for

from obsvty.adapters.otlp.codec import CODECS
from obsvty.adapters.otlp.receivers import receiver_codecs
from obsvty.adapters.security.policy import SecurityPolicy
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.config import load_settings
from obsvty.domain.arrow_batch import ArrowBatch, in_document_form
from obsvty.domain.model import Signal
from obsvty.main import build_storage
from obsvty.ports.storage_backend import BatchForm

pytestmark = pytest.mark.unit


def test_build_storage_duckdb_bundle_offers_query_retention_and_gauges(tmp_path: Path) -> None:
    # Arrange
    settings = load_settings(obsvty_db_path=tmp_path / "b.duckdb")

    # Act
    backend = build_storage(settings)

    # Assert
    try:
        assert isinstance(backend.store, DuckDBStore)
        assert backend.query is not None
        assert backend.retention is not None
        assert backend.memory is not None
        assert backend.store_size is not None
        assert backend.store_size() > 0
        assert backend.batch_form is BatchForm.ARROW
    finally:
        backend.close()


def test_build_storage_duckdb_process_set_logs_that_it_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    settings = load_settings(obsvty_db_path=tmp_path / "p.duckdb", duckdb_process=True)

    # Act
    with caplog.at_level(logging.WARNING, logger="obsvty"):
        backend = build_storage(settings)
    backend.close()

    # Assert
    assert isinstance(backend.store, DuckDBStore)
    assert any(
        r.levelno == logging.WARNING
        and r.getMessage().startswith("DUCKDB_PROCESS is removed and ignored")
        for r in caplog.records
    )


def test_build_storage_duckdb_process_unset_logs_nothing_about_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    settings = load_settings(obsvty_db_path=tmp_path / "q.duckdb")

    # Act
    with caplog.at_level(logging.WARNING, logger="obsvty"):
        build_storage(settings).close()

    # Assert
    assert not [r for r in caplog.records if "DUCKDB_PROCESS" in r.getMessage()]


@pytest.mark.parametrize(
    ("form", "redacting", "document_form", "native"),
    [
        (BatchForm.ARROW, False, False, True),
        (BatchForm.ARROW, True, False, True),
        (BatchForm.DOCUMENTS, False, True, True),
        (BatchForm.DOCUMENTS, True, False, False),
    ],
)
def test_receiver_codecs_follow_the_bundle_batch_form_and_redaction(
    form: BatchForm, redacting: bool, document_form: bool, native: bool
) -> None:
    # Arrange
    payload = factory_for(Signal.TRACES, 3).payload(0)
    if CODECS[Signal.TRACES].native is None:
        pytest.skip("the compiled decoder is not loaded (OBSVTY_NO_EXTENSIONS)")

    # Act
    codecs = receiver_codecs(SecurityPolicy(), form, redacting=redacting)
    batch = codecs[Signal.TRACES].decode_protobuf(payload).batch

    # Assert
    assert isinstance(batch, ArrowBatch) is native
    assert (isinstance(batch, ArrowBatch) and in_document_form(batch)) is document_form
