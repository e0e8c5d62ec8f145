"""Credit is grouped by the school that granted it, the district's high school first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.pesc.attribution import sessions_by_school
from tests.pesc.factories import RecordFactory


def test_the_district_school_comes_first_even_without_sessions() -> None:
    record = RecordFactory().record(grade_level=9)
    assert [(school, sessions) for school, sessions in sessions_by_school(record)] == [
        (record.school, [])
    ]


def test_other_schools_follow_in_the_order_of_their_first_session() -> None:
    record = RecordFactory().record(transfer=True, grade_level=12)
    groups = list(sessions_by_school(record))
    assert [school.kind for school, _ in groups] == ["high", "external"]
    assert sum(len(sessions) for _, sessions in groups) == len(record.sessions)
    for school, sessions in groups:
        assert {s.school_id for s in sessions} <= {school.school_id}


def test_a_session_at_a_school_the_record_lacks_is_an_error() -> None:
    record = RecordFactory().record(grade_level=10)
    broken = replace(record, sessions=(replace(record.sessions[0], school_id=404),))
    with pytest.raises(ValueError, match="school 404"):
        list(sessions_by_school(broken))
