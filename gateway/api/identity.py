"""Who a request means: identity checks and TranscriptRequest matching, as pure functions.

Names compare case- and accent-insensitively (NFKD, combining marks dropped, casefolded,
spaces/hyphens/apostrophes ignored): "Núñez" and "NUNEZ" are the same name, as are
"O'Brien" and "OBrien", because registrars and colleges spell them differently.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from gateway.pesc.request import RequestedStudent
from tenants.queries.transcripts import Candidate

_IGNORED = str.maketrans("", "", " -'’.")
# Letters that carry no combining mark to drop, so NFKD leaves them as they are: the way a
# registrar types them without the keyboard for it. "Yılmaz" is "Yilmaz", "Łukasz" "Lukasz".
_PLAIN = str.maketrans(
    {"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe"}
)


def fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold().translate(_PLAIN).translate(_IGNORED)


def identity_matches(
    *, last_name: str, birth_date: date, asked_last_name: str | None, asked_birth_date: date | None
) -> bool:
    """Optional checks a consumer may add: each given one must match."""
    if asked_birth_date is not None and asked_birth_date != birth_date:
        return False
    return not (asked_last_name is not None and fold(asked_last_name) != fold(last_name))


def match_requested(found: list[Candidate], asked: RequestedStudent) -> list[Candidate]:
    """The candidates a TranscriptRequest's RequestedStudent means.

    The state id, when given, decides alone which student it is; the local id likewise.
    Names and birth date given alongside must agree with that student. Without ids, the
    birth date and last name (and first name, if given) must all match: several students
    matching is a MultipleMatch, none a NoRecord.
    """

    def agrees(c: Candidate) -> bool:
        if asked.birth_date is not None and asked.birth_date != c.birth_date:
            return False
        if asked.last_name and fold(asked.last_name) != fold(c.last_name):
            return False
        return not (asked.first_name and fold(asked.first_name) != fold(c.first_name))

    if asked.state_id:
        return [c for c in found if c.student_id == asked.state_id and agrees(c)]
    if asked.school_assigned_id:
        return [c for c in found if c.local_id == asked.school_assigned_id and agrees(c)]
    if asked.birth_date is None or not asked.last_name:
        return []
    return [c for c in found if agrees(c)]
