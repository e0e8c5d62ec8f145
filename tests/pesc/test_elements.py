"""Shared builders fit a district school's contact data into PESC's address and phone types."""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from gateway.pesc.elements import school_element
from gateway.pesc.writer import XmlWriter
from tenants.records import School
from tests.pesc.factories import RecordFactory


def built(school: School) -> etree._Element:
    w = XmlWriter()
    school_element(w, school, transfer=False)
    element = etree.fromstring(w.text())
    assert element.tag == "School"
    return element


def a_school() -> School:
    return RecordFactory().record().school


def test_a_long_address_is_wrapped_into_at_most_three_lines_of_forty() -> None:
    school = replace(
        a_school(), address_line="100 N. Main Street, Building C & Annex, Second Floor Suite 200"
    )
    lines = [e.text or "" for e in built(school).iterfind("Contacts/Address/AddressLine")]
    assert 2 <= len(lines) <= 3
    assert all(len(line) <= 40 for line in lines)
    assert " ".join(lines) == school.address_line


def test_phone_numbers_are_split_into_area_code_number_and_extension() -> None:
    phone = built(replace(a_school(), phone="+1 (919) 555-0100 ext. 204")).find("Contacts/Phone")
    assert phone is not None
    assert [(e.tag, e.text) for e in phone] == [
        ("AreaCityCode", "919"),
        ("PhoneNumber", "5550100"),
        ("PhoneNumberExtension", "204"),
    ]
    assert built(replace(a_school(), phone="call the front office")).find("Contacts/Phone") is None


def test_an_address_that_does_not_fit_is_left_out_whole() -> None:
    element = built(replace(a_school(), state_code="XX", phone=None))
    assert element.find("Contacts") is None
    element = built(replace(a_school(), city="X", phone="919-555-0100"))
    assert element.find("Contacts/Address") is None
    assert element.find("Contacts/Phone") is not None
