"""Untrusted XML is bounded and never gets a DTD, entity expansion or a network fetch."""

from __future__ import annotations

import pytest

from gateway.pesc.errors import DocumentTooLarge, MalformedDocument
from gateway.pesc.untrusted_xml import parse_untrusted


def test_a_plain_document_parses() -> None:
    tree = parse_untrusted(b"<a><b>x</b></a>", max_bytes=100)
    assert tree.getroot().findtext("b") == "x"


@pytest.mark.parametrize(
    "document",
    [
        b"<!DOCTYPE a><a/>",
        b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
        b'<!DOCTYPE a PUBLIC "-//X//Y" "a.dtd"><a/>',
        b'<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE a><a/>'.encode("utf-16"),
        '<?xml version="1.0" encoding="utf-16-be"?><!DOCTYPE a><a/>'.encode("utf-16-be"),
    ],
)
def test_any_doctype_is_refused(document: bytes) -> None:
    with pytest.raises(MalformedDocument, match="DOCTYPE"):
        parse_untrusted(document, max_bytes=1000)


def test_a_doctype_in_an_encoding_the_byte_scan_misses_is_still_refused() -> None:
    document = '<?xml version="1.0" encoding="utf-32"?><!DOCTYPE a><a/>'.encode("utf-32")
    with pytest.raises(MalformedDocument, match="DOCTYPE"):
        parse_untrusted(document, max_bytes=1000)


def test_an_undeclared_entity_is_not_well_formed() -> None:
    with pytest.raises(MalformedDocument, match="not well-formed"):
        parse_untrusted(b"<a>&lol;</a>", max_bytes=100)


def test_the_size_bound_is_inclusive() -> None:
    assert parse_untrusted(b"<a/>", max_bytes=4).getroot().tag == "a"
    with pytest.raises(DocumentTooLarge, match="5 bytes; at most 4"):
        parse_untrusted(b"<a />", max_bytes=4)
