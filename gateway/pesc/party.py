"""A party to a PESC exchange: who receives a transcript, or who sent or receives a request.

In XML a party is an AcRec:OrganizationType: identifiers of the OrganizationIDMultiChoiceGroup
(CoreMain), names, and notes. `Party` keeps the identifiers a high-school transcript exchange
uses. Identifier lengths are the schema's (core:CEEBACTType is 6 characters, ACTType 4, ...);
a wrong length raises ValueError on construction, so a party that exists renders validly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

# Field -> (min, max) characters, from the CoreMain simple types of the same name. OPEID is an
# unbounded xs:string in PESC; the Department of Education assigns 6 digits plus a 2-digit
# branch, so 6..8 is what a real one looks like.
_ID_LENGTHS: Final[dict[str, tuple[int, int]]] = {
    "opeid": (6, 8),
    "ipeds": (6, 6),
    "atp": (6, 6),
    "fice": (6, 6),
    "act": (4, 4),
    "ccd": (12, 12),
    "ceeb": (6, 6),
}


@dataclass(frozen=True)
class Party:
    """An organization (or a person, named in `recipient`) in a PESC Source or Destination.

    name       OrganizationName; clipped to the schema's 60 characters when rendered.
    ceeb       CEEB/ACT code of a high school (core:CEEBACT, 6 characters).
    atp        College Board code of a college (core:ATP, 6 characters, zero-padded).
    act        ACT code of a college (core:ACT, 4 characters).
    fice       core:FICE (6).  ipeds: core:IPEDS (6).  opeid: core:OPEID.
    ccd        NCES Common Core of Data id of a school (core:CCD, 12 characters).
    recipient  free text: the person or office the document is for; rendered as the
               organization's NoteMessage "Recipient: ...".

    Every field is optional: a PESC Organization may be empty, and a request may name its
    sender by identifiers alone.
    """

    name: str | None = None
    ceeb: str | None = None
    atp: str | None = None
    act: str | None = None
    fice: str | None = None
    ipeds: str | None = None
    opeid: str | None = None
    ccd: str | None = None
    recipient: str | None = None

    def __post_init__(self) -> None:
        for field, (low, high) in _ID_LENGTHS.items():
            value = getattr(self, field)
            if value is not None and not low <= len(value) <= high:
                expected = str(low) if low == high else f"{low} to {high}"
                raise ValueError(f"Party.{field} has {expected} characters, got {value!r}")
        if self.name is not None and not self.name.strip():
            raise ValueError("Party.name is None or not blank")

    def as_dict(self) -> dict[str, str | None]:
        """Every field, by name, None included: the shape the JSON rendering uses."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
