"""Identity checks compare names as registrars and colleges write them."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.api.identity import fold, identity_matches, match_requested
from gateway.pesc.request import RequestedStudent
from tenants.queries.transcripts import Candidate


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Núñez", "NUNEZ"),
        ("Yılmaz", "YILMAZ"),
        ("Yılmaz", "yilmaz"),
        ("O'Brien", "OBrien"),
        ("Smith-Jones", "smith jones"),
        ("Nguyễn", "nguyen"),
        ("Łukasz", "LUKASZ"),
        ("Straße", "STRASSE"),
        ("Zoë", "zoe"),
    ],
)
def test_names_fold_alike(stored: str, typed: str) -> None:
    assert fold(stored) == fold(typed)


def test_different_names_stay_different() -> None:
    assert fold("Nunez") != fold("Nunes")
    assert not identity_matches(
        last_name="Núñez",
        birth_date=date(2007, 1, 2),
        asked_last_name="Nunes",
        asked_birth_date=None,
    )
    assert not identity_matches(
        last_name="Núñez",
        birth_date=date(2007, 1, 2),
        asked_last_name=None,
        asked_birth_date=date(2007, 1, 3),
    )
    assert identity_matches(
        last_name="Núñez", birth_date=date(2007, 1, 2), asked_last_name=None, asked_birth_date=None
    )


def asked(**fields: object) -> RequestedStudent:
    base: dict[str, object] = dict(
        state_id=None,
        school_assigned_id=None,
        recipient_assigned_id=None,
        first_name=None,
        middle_names=(),
        last_name=None,
        name_suffix=None,
        birth_date=None,
        attendance=(),
        release_authorized=True,
        release_authorized_method=None,
    )
    base.update(fields)
    return RequestedStudent(**base)  # type: ignore[arg-type]


def test_state_id_decides_and_names_must_agree() -> None:
    a = Candidate("1000000001", "L1", "Ana", "Núñez", date(2007, 1, 2))
    b = Candidate("1000000002", "L2", "Ana", "Núñez", date(2007, 1, 2))
    assert match_requested([a, b], asked(state_id="1000000002")) == [b]
    assert match_requested([a, b], asked(state_id="1000000002", last_name="Other")) == []
    # Without ids: birth date and names; two alike are a multiple match.
    assert match_requested([a, b], asked(last_name="NUNEZ", birth_date=date(2007, 1, 2))) == [a, b]
    assert match_requested([a, b], asked(last_name="NUNEZ")) == []
