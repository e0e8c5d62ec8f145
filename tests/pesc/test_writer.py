"""The string writer says exactly what the lxml tree said, byte for byte, and escapes as XML
requires: the transcript a disclosure row's SHA-256 names is the same document as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from lxml import etree

from gateway.pesc import TRANSCRIPT_VERSIONS, Party, render_transcript
from gateway.pesc.writer import XmlWriter, escape
from tests.pesc import lxml_reference
from tests.pesc.factories import LONG_LAST_NAME, RecordFactory, without_school_ids

NOW = datetime.fromisoformat("2025-02-03T14:05:09+00:00")
PARTIES = (
    Party("College Foundation of North Carolina", atp="005521", recipient="Admissions"),
    Party(None),  # an Organization with nothing in it: written <Organization/>
    Party("Smith & Sons <Admissions>", fice="001234"),
)


@pytest.mark.parametrize("version", TRANSCRIPT_VERSIONS)
def test_every_kind_of_record_renders_to_the_bytes_of_the_lxml_tree(version: str) -> None:
    records = RecordFactory(seed=16).variety(200)
    records += [
        replace(records[0], student=replace(records[0].student, last_name=LONG_LAST_NAME)),
        without_school_ids(records[1]),
    ]
    for n, record in enumerate(records):
        arguments = {
            "version": version,
            "document_id": f"GW-{n:06d}",
            "created_at": NOW,
            "destination": PARTIES[n % len(PARTIES)],
            "request_tracking_id": None if n % 2 else f"REQ-{n}",
        }
        fast = render_transcript(record, **arguments)  # type: ignore[arg-type]
        assert fast == lxml_reference.render_transcript(record, **arguments), record.student


def test_text_is_escaped_as_lxml_escapes_it() -> None:
    for value in ("plain", "A & B", "<tag>", "a > b", "line\r\nbreak", "Zoë Ångström", ""):
        w = XmlWriter()
        w.leaf("T", value)
        element = etree.Element("T")
        element.text = value
        assert w.text() == etree.tostring(element, encoding="unicode"), value
        assert etree.fromstring(w.text()).text == (value or None)


def test_characters_xml_cannot_carry_are_refused() -> None:
    for value in ("null\x00byte", "bell\x07", "\ud800lone surrogate"):
        with pytest.raises(ValueError, match="XML compatible"):
            escape(value)


def test_an_empty_element_is_written_self_closed() -> None:
    w = XmlWriter()
    w.open("Outer")
    w.open("Empty")
    w.close("Empty")
    w.leaf("Gone", None)
    w.open("Empty")
    w.leaf("Gone", None)
    w.close("Empty")
    w.close("Outer")
    assert w.text() == "<Outer><Empty/><Empty/></Outer>"
    assert w.document() == b'<?xml version="1.0" encoding="UTF-8"?>\n' + w.text().encode()
