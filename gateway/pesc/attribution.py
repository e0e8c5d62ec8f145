"""Which school each session's credit belongs to: the grouping both renderings share.

A transfer student's record holds sessions at the school they came from (`School.kind ==
'external'`). PESC attributes credit to a school by the AcademicRecord it sits in, so the
transcript has one AcademicRecord per school; the JSON mirrors that grouping.
"""

from __future__ import annotations

from collections.abc import Iterator

from tenants.records import School, Session, StudentRecord


def sessions_by_school(record: StudentRecord) -> Iterator[tuple[School, list[Session]]]:
    """(school, its sessions in record order): the district's high school first, even when it
    has no session yet, then every other school in the order its first session appears.

    A session whose school is neither the record's school nor in `record.schools` breaks the
    record's contract: ValueError, rather than credit attributed to a guessed school.
    """
    main_id = record.school.school_id
    groups: dict[int, list[Session]] = {main_id: []}
    for session in record.sessions:
        if session.school_id != main_id and session.school_id not in record.schools:
            raise ValueError(
                f"session {session.session_id} refers to school {session.school_id}, "
                "which the record's schools do not include"
            )
        groups.setdefault(session.school_id, []).append(session)
    for school_id, sessions in groups.items():
        yield (record.school if school_id == main_id else record.schools[school_id]), sessions
