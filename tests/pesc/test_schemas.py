"""Schemas load from the given directory, once, and validation reports line and element."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ConfigurationError
from gateway.pesc import load_schema, schemas_available, validate
from gateway.pesc.schemas import SCHEMA_FILES, SchemaError


def test_every_schema_compiles_and_is_cached(pesc_dir: Path) -> None:
    assert schemas_available(pesc_dir)
    for name in SCHEMA_FILES:
        schema = load_schema(pesc_dir, name)
        assert load_schema(pesc_dir, name) is schema
    # The same directory spelt differently is the same cache entry.
    spelt = pesc_dir / "v1.3.0" / ".."
    assert load_schema(spelt, "TranscriptRequest 1.4.0") is load_schema(
        pesc_dir, "TranscriptRequest 1.4.0"
    )


def test_the_pesc_sample_transcript_is_valid(samples: Path, pesc_dir: Path) -> None:
    # UTF-16 with a byte order mark: the parser must honour the BOM.
    document = (samples / "SampleHighSchoolTranscript_v1.3.0.utf16.xml").read_bytes()
    assert document[:2] in {b"\xff\xfe", b"\xfe\xff"}
    assert validate(pesc_dir, "HighSchoolTranscript 1.3.0", document) == []
    errors = validate(pesc_dir, "HighSchoolTranscript 1.5.0", document)
    assert errors and "No matching global declaration" in errors[0].message


def test_errors_name_line_and_element(samples: Path, pesc_dir: Path) -> None:
    document = (samples / "TranscriptRequest_v1.4.0_invalid_transcript_request.xml").read_bytes()
    errors = validate(pesc_dir, "TranscriptRequest 1.4.0", document)
    assert len(errors) == 1
    error = errors[0]
    assert error.line == 64
    assert error.element == "Contacts"
    assert "Name" in error.message
    assert str(error).startswith("line 64, element Contacts: Element 'Contacts'")


def test_a_document_that_is_not_xml_is_one_error(pesc_dir: Path) -> None:
    errors = validate(pesc_dir, "TranscriptResponse 1.4.0", b"<TranscriptResponse>")
    assert len(errors) == 1
    assert errors[0] == SchemaError(0, "", errors[0].message)
    assert "not well-formed" in errors[0].message


def test_a_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    assert not schemas_available(tmp_path)
    with pytest.raises(ConfigurationError, match="GATEWAY_PESC_DIR"):
        load_schema(tmp_path, "HighSchoolTranscript 1.3.0")


def test_a_broken_schema_file_is_a_configuration_error(tmp_path: Path) -> None:
    target = tmp_path / SCHEMA_FILES["TranscriptResponse 1.4.0"]
    target.parent.mkdir(parents=True)
    target.write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:bogus/>")
    with pytest.raises(ConfigurationError, match="does not compile"):
        load_schema(tmp_path, "TranscriptResponse 1.4.0")
