"""Element builders shared by the PESC documents the gateway writes (lxml, no validation).

The AcademicRecord sector library and CoreMain are `elementFormDefault="unqualified"`, so every
element built here is in no namespace; only a message's root (and, for TranscriptRequest and
TranscriptResponse, its direct children) is qualified. Each builder appends children in the
order of the schema's xs:sequence, which the comments name.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from functools import lru_cache

from lxml import etree

from gateway.pesc import codes, simple_types
from gateway.pesc.party import Party
from tenants.records import School

SubElement = etree.SubElement
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

_PHONE_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?)\s*(\d{1,5})\s*$")
_NON_DIGITS = re.compile(r"\D")


def serialize(root: etree._Element) -> bytes:
    """The document as UTF-8 bytes after an XML declaration (lxml's own uses single quotes)."""
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def leaf(parent: etree._Element, tag: str, value: str | None) -> None:
    """Append `<tag>value</tag>` unless value is None (PESC strings are never empty)."""
    if value is not None:
        SubElement(parent, tag).text = value


def organization_ids(parent: etree._Element, party: Party) -> None:
    """core:OrganizationIDMultiChoiceGroup: OPEID, IPEDS, ATP, FICE, ACT, CCD, CEEBACT (in order)."""
    leaf(parent, "OPEID", party.opeid)
    leaf(parent, "IPEDS", party.ipeds)
    leaf(parent, "ATP", party.atp)
    leaf(parent, "FICE", party.fice)
    leaf(parent, "ACT", party.act)
    leaf(parent, "CCD", party.ccd)
    leaf(parent, "CEEBACT", party.ceeb)


def party_organization(parent: etree._Element, party: Party) -> None:
    """AcRec:OrganizationType `Organization`: ids, OrganizationName, NoteMessage (recipient)."""
    org = SubElement(parent, "Organization")
    organization_ids(org, party)
    leaf(org, "OrganizationName", simple_types.text(party.name, 60))
    if party.recipient:
        leaf(org, "NoteMessage", simple_types.text(f"Recipient: {party.recipient}", 80))


def party_school(parent: etree._Element, party: Party) -> None:
    """AcRec:SchoolType `School` for a party: OrganizationName (required) first, then ids."""
    school = SubElement(parent, "School")
    leaf(school, "OrganizationName", simple_types.text(party.name, 60) or "Unknown")
    organization_ids(school, party)


def school_party(school: School) -> Party:
    """The identifiers of a district school that fit their PESC types, as a `Party`."""
    return Party(
        name=school.name.strip() or None,
        ccd=simple_types.identifier(school.nces_id, 12, 12),
        ceeb=simple_types.identifier(school.ceeb_code, 6, 6),
    )


def school_source(parent: etree._Element, school: School, district_name: str) -> None:
    """TransmissionData Source `Organization`: a district school and its district.

    AcRec:OrganizationType order: ids (CCD, CEEBACT), LocalOrganizationID (the state's school
    id, qualified by the state's code), OrganizationName (school, then district, as in the
    PESC sample transcript), Contacts.
    """
    org = SubElement(parent, "Organization")
    _school_ids(org, school)
    _local_organization_id(org, school)
    leaf(org, "OrganizationName", simple_types.text(school.name, 60))
    leaf(org, "OrganizationName", simple_types.text(district_name, 60))
    _contacts(org, school)


def school_element(parent: etree._Element, school: School, *, transfer: bool) -> None:
    """AcRec:SchoolType `School` for a record's school (AcademicRecord/School).

    Order: OrganizationName, ids, LocalOrganizationID, SchoolOverrideCode ('Transfer' for a
    school the student transferred from), SchoolLevel ('HighSchool' for the district's own;
    an external school's level is not known), Contacts.
    """
    element = SubElement(parent, "School")
    leaf(element, "OrganizationName", simple_types.text(school.name, 60) or "Unknown")
    _school_ids(element, school)
    _local_organization_id(element, school)
    if transfer:
        leaf(element, "SchoolOverrideCode", "Transfer")
    elif school.kind == "high":
        leaf(element, "SchoolLevel", "HighSchool")
    _contacts(element, school)


def person_name(
    parent: etree._Element,
    first: str | None,
    middles: Sequence[str],
    last: str | None,
    suffix: str | None,
) -> None:
    """core:NameType `Name`: FirstName, MiddleName (0..10), LastName, NameSuffix; 35 chars each."""
    name = SubElement(parent, "Name")
    leaf(name, "FirstName", simple_types.text(first, 35))
    for middle in middles[:10]:
        leaf(name, "MiddleName", simple_types.text(middle, 35))
    leaf(name, "LastName", simple_types.text(last, 35))
    leaf(name, "NameSuffix", codes.name_suffix(suffix))


def _school_ids(parent: etree._Element, school: School) -> None:
    # The two a district school has, in group order: CCD (NCES id), then CEEBACT.
    leaf(parent, "CCD", simple_types.identifier(school.nces_id, 12, 12))
    leaf(parent, "CEEBACT", simple_types.identifier(school.ceeb_code, 6, 6))


def _local_organization_id(parent: etree._Element, school: School) -> None:
    code = simple_types.identifier(school.state_school_id, 35)
    if code is not None and school.state_code in codes.STATE_PROVINCE_CODES:
        local = SubElement(parent, "LocalOrganizationID")
        leaf(local, "LocalOrganizationIDCode", code)
        leaf(local, "LocalOrganizationIDQualifier", school.state_code)


def _contacts(parent: etree._Element, school: School) -> None:
    """AcRec:ContactsType with a domestic Address and a Phone; left out if neither fits."""
    lines = _address_lines(school.address_line)
    city = simple_types.text(school.city, 30)
    postal = simple_types.identifier(school.postal_code, 17)
    address_fits = (
        bool(lines)
        and city is not None
        and len(city) >= 2  # core:CityType minLength 2
        and school.state_code in codes.STATE_PROVINCE_CODES
        and postal is not None
    )
    phone = _phone_parts(school.phone)
    if not address_fits and phone is None:
        return
    contacts = SubElement(parent, "Contacts")
    if address_fits:
        # core:GeneralAddressGroup: AddressLine (1..3), City, StateProvinceCode, PostalCode.
        address = SubElement(contacts, "Address")
        for line in lines:
            leaf(address, "AddressLine", line)
        leaf(address, "City", city)
        leaf(address, "StateProvinceCode", school.state_code)
        leaf(address, "PostalCode", postal)
    if phone is not None:
        # core:PhoneType: AreaCityCode (1..5), PhoneNumber (1..11), PhoneNumberExtension.
        area, number, extension = phone
        element = SubElement(contacts, "Phone")
        leaf(element, "AreaCityCode", area)
        leaf(element, "PhoneNumber", number)
        leaf(element, "PhoneNumberExtension", extension)


@lru_cache(maxsize=4096)
def _address_lines(value: str) -> tuple[str, ...]:
    """An address as 1..3 AddressLines of at most 40 characters (core:AddressLineType)."""
    line = simple_types.text(value, 200)
    if line is None:
        return ()
    if len(line) <= 40:
        return (line,)
    return tuple(textwrap.wrap(line, 40)[:3])


@lru_cache(maxsize=4096)
def _phone_parts(value: str | None) -> tuple[str | None, str, str | None] | None:
    """(area code, number, extension) of a North American number, or None if it does not fit."""
    if not value:
        return None
    extension = None
    match = _PHONE_EXTENSION.search(value)
    if match:
        extension = match.group(1)
        value = value[: match.start()]
    digits = _NON_DIGITS.sub("", value)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return digits[:3], digits[3:], extension
    if 1 <= len(digits) <= 11:
        return None, digits, extension
    return None
