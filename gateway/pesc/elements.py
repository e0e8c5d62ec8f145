"""Element builders shared by the PESC documents the gateway writes (no validation).

Each builder writes through an `XmlWriter` (gateway.pesc.writer): elements in document order,
with no tree in between.

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

from gateway.pesc import codes, simple_types
from gateway.pesc.party import Party
from gateway.pesc.writer import XmlWriter
from tenants.records import School

_PHONE_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?)\s*(\d{1,5})\s*$")
_NON_DIGITS = re.compile(r"\D")


def organization_ids(w: XmlWriter, party: Party) -> None:
    """core:OrganizationIDMultiChoiceGroup: OPEID, IPEDS, ATP, FICE, ACT, CCD, CEEBACT (in order)."""
    w.leaf("OPEID", party.opeid)
    w.leaf("IPEDS", party.ipeds)
    w.leaf("ATP", party.atp)
    w.leaf("FICE", party.fice)
    w.leaf("ACT", party.act)
    w.leaf("CCD", party.ccd)
    w.leaf("CEEBACT", party.ceeb)


def party_organization(w: XmlWriter, party: Party) -> None:
    """AcRec:OrganizationType `Organization`: ids, OrganizationName, NoteMessage (recipient)."""
    w.open("Organization")
    organization_ids(w, party)
    w.leaf("OrganizationName", simple_types.text(party.name, 60))
    if party.recipient:
        w.leaf("NoteMessage", simple_types.text(f"Recipient: {party.recipient}", 80))
    w.close("Organization")


def party_school(w: XmlWriter, party: Party) -> None:
    """AcRec:SchoolType `School` for a party: OrganizationName (required) first, then ids."""
    w.open("School")
    w.leaf("OrganizationName", simple_types.text(party.name, 60) or "Unknown")
    organization_ids(w, party)
    w.close("School")


def school_party(school: School) -> Party:
    """The identifiers of a district school that fit their PESC types, as a `Party`."""
    return Party(
        name=school.name.strip() or None,
        ccd=simple_types.identifier(school.nces_id, 12, 12),
        ceeb=simple_types.identifier(school.ceeb_code, 6, 6),
    )


def school_source(w: XmlWriter, school: School, district_name: str) -> None:
    """TransmissionData Source `Organization`: a district school and its district.

    AcRec:OrganizationType order: ids (CCD, CEEBACT), LocalOrganizationID (the state's school
    id, qualified by the state's code), OrganizationName (school, then district, as in the
    PESC sample transcript), Contacts.
    """
    w.open("Organization")
    _school_ids(w, school)
    _local_organization_id(w, school)
    w.leaf("OrganizationName", simple_types.text(school.name, 60))
    w.leaf("OrganizationName", simple_types.text(district_name, 60))
    _contacts(w, school)
    w.close("Organization")


def school_element(w: XmlWriter, school: School, *, transfer: bool) -> None:
    """AcRec:SchoolType `School` for a record's school (AcademicRecord/School).

    Order: OrganizationName, ids, LocalOrganizationID, SchoolOverrideCode ('Transfer' for a
    school the student transferred from), SchoolLevel ('HighSchool' for the district's own;
    an external school's level is not known), Contacts.
    """
    w.open("School")
    w.leaf("OrganizationName", simple_types.text(school.name, 60) or "Unknown")
    _school_ids(w, school)
    _local_organization_id(w, school)
    if transfer:
        w.leaf("SchoolOverrideCode", "Transfer")
    elif school.kind == "high":
        w.leaf("SchoolLevel", "HighSchool")
    _contacts(w, school)
    w.close("School")


def person_name(
    w: XmlWriter,
    first: str | None,
    middles: Sequence[str],
    last: str | None,
    suffix: str | None,
) -> None:
    """core:NameType `Name`: FirstName, MiddleName (0..10), LastName, NameSuffix; 35 chars each."""
    w.open("Name")
    w.leaf("FirstName", simple_types.text(first, 35))
    for middle in middles[:10]:
        w.leaf("MiddleName", simple_types.text(middle, 35))
    w.leaf("LastName", simple_types.text(last, 35))
    w.leaf("NameSuffix", codes.name_suffix(suffix))
    w.close("Name")


def _school_ids(w: XmlWriter, school: School) -> None:
    # The two a district school has, in group order: CCD (NCES id), then CEEBACT.
    w.leaf("CCD", simple_types.identifier(school.nces_id, 12, 12))
    w.leaf("CEEBACT", simple_types.identifier(school.ceeb_code, 6, 6))


def _local_organization_id(w: XmlWriter, school: School) -> None:
    code = simple_types.identifier(school.state_school_id, 35)
    if code is not None and school.state_code in codes.STATE_PROVINCE_CODES:
        w.open("LocalOrganizationID")
        w.leaf("LocalOrganizationIDCode", code)
        w.leaf("LocalOrganizationIDQualifier", school.state_code)
        w.close("LocalOrganizationID")


def _contacts(w: XmlWriter, school: School) -> None:
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
    w.open("Contacts")
    if address_fits:
        # core:GeneralAddressGroup: AddressLine (1..3), City, StateProvinceCode, PostalCode.
        w.open("Address")
        for line in lines:
            w.leaf("AddressLine", line)
        w.leaf("City", city)
        w.leaf("StateProvinceCode", school.state_code)
        w.leaf("PostalCode", postal)
        w.close("Address")
    if phone is not None:
        # core:PhoneType: AreaCityCode (1..5), PhoneNumber (1..11), PhoneNumberExtension.
        area, number, extension = phone
        w.open("Phone")
        w.leaf("AreaCityCode", area)
        w.leaf("PhoneNumber", number)
        w.leaf("PhoneNumberExtension", extension)
        w.close("Phone")
    w.close("Contacts")


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
