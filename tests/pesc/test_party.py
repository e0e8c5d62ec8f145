"""A Party holds only identifiers that fit their PESC types."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.pesc import Party, school_party
from tests.pesc.factories import RecordFactory


def test_identifiers_of_the_right_length_are_accepted() -> None:
    party = Party(
        "UNC Chapel Hill",
        atp="005816",
        act="3166",
        fice="002974",
        ipeds="199120",
        opeid="00297400",
        ccd="370472001234",
        ceeb="340123",
        recipient="Office of Undergraduate Admissions",
    )
    assert party.as_dict()["act"] == "3166"
    assert list(party.as_dict()) == [
        "name", "ceeb", "atp", "act", "fice", "ipeds", "opeid", "ccd", "recipient",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [("ceeb", "34012"), ("atp", "5816"), ("act", "31660"), ("fice", "2974"), ("ccd", "3704")],
)
def test_identifiers_of_the_wrong_length_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"Party.{field}"):
        Party("X", **{field: value})


def test_every_field_is_optional_but_a_name_is_not_blank() -> None:
    assert Party().as_dict() == dict.fromkeys(Party().as_dict())
    with pytest.raises(ValueError, match="blank"):
        Party("   ")


def test_a_district_school_as_a_party_keeps_the_ids_that_fit() -> None:
    school = RecordFactory().record().school
    assert school_party(school) == Party(school.name, ceeb=school.ceeb_code, ccd=school.nces_id)
    odd = replace(school, ceeb_code="12345", nces_id=None)
    assert school_party(odd) == Party(school.name)
