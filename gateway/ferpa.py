"""The FERPA vocabulary of a release: who a student id is, and on what basis a record goes out.

Pure values, shared by every face that releases a transcript (the consumer API, the release
worker, the admin API, the console and the CLI), so that each spells them the same way.
The PESC document versions are `gateway.pesc.TRANSCRIPT_VERSIONS`.
"""

from __future__ import annotations

import re
from typing import Final

# A district's student number: letters, digits and dashes, as the SIS exports them.
STUDENT_ID: Final = re.compile(r"^[0-9A-Za-z-]{1,30}$")

# 34 CFR 99.32(a)(1): the disclosure log records each party's legitimate interest; these are
# the bases a transcript release may name, keyed by the section that allows it.
LEGAL_BASES: Final = {
    "99.31(a)(2)": "34 CFR 99.31(a)(2): enrollment at another institution",
    "99.30": "34 CFR 99.30: written consent of the eligible student or parent",
}
CONSENT_BASIS: Final = "99.30"
DEFAULT_BASIS: Final = "99.31(a)(2)"
DEFAULT_PURPOSE: Final = "Enrollment at another institution"
