"""Python values in the lexical forms of the PESC (XML Schema) simple types.

PESC strings carry length facets (a last name is 1..35 characters, an organization name 1..60)
and a document that breaks one is invalid, so values pass through here on their way into XML:

- `text(value, max_length)` is for values a reader interprets (names, titles, addresses): it is
  NFC-normalised, stripped of characters XML 1.0 forbids (XML 1.0 §2.2, production [2]), trimmed,
  and clipped to `max_length` characters (XSD lengths count characters, as `len` does). Empty
  results are None, because every PESC string has minLength 1 and the element must be left out.
- `identifier(value, max_length)` is for identifiers: a value that does not fit is None, never
  clipped, because a truncated identifier names somebody else.
- `decimal`, `date`, `date_time` and `year_month` give xs:decimal, xs:date, xs:dateTime and
  xs:gYearMonth forms. xs:decimal has no exponent (XSD 1.0 Part 2 §3.2.3.1), so
  `Decimal("1E+1")` is written "10".

All functions are pure.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date as Date
from datetime import datetime as DateTime
from decimal import Decimal

# Characters outside XML 1.0's Char production; lxml refuses them outright.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"\s+")


def text(value: str | None, max_length: int) -> str | None:
    """`value` fitted to a PESC string of 1..max_length characters, or None if nothing is left."""
    if value is None:
        return None
    if not value.isprintable():
        # Slow path only for the rare value with control or format characters: tabs and
        # newlines become single spaces, characters XML cannot carry are dropped.
        value = _SPACES.sub(" ", _NOT_XML_CHAR.sub("", value))
    value = unicodedata.normalize("NFC", value).strip()
    if len(value) > max_length:
        value = value[:max_length].rstrip()
    return value or None


def identifier(value: str | None, max_length: int, min_length: int = 1) -> str | None:
    """`value` stripped, if its length is within the facets and it is XML-safe; else None."""
    if value is None:
        return None
    value = value.strip()
    if not min_length <= len(value) <= max_length or _NOT_XML_CHAR.search(value):
        return None
    return value


def decimal(value: Decimal) -> str:
    """xs:decimal lexical form, without exponent; raises ValueError for NaN and infinities."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a decimal number")
    return format(value, "f")


def date(value: Date) -> str:
    """xs:date, e.g. 2024-06-07."""
    return value.isoformat()


def date_time(value: DateTime) -> str:
    """xs:dateTime with an explicit offset; a naive datetime is refused (ValueError).

    A transcript's creation time is evidence in a FERPA disclosure record: without a zone it
    names no instant.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    return value.isoformat(timespec="seconds")


def year_month(value: Date) -> str:
    """xs:gYearMonth, e.g. 2023-08."""
    return f"{value.year:04d}-{value.month:02d}"


def document_id(value: str) -> str:
    """A DocumentID or RequestTrackingID (core: 1..35 characters), checked, never clipped."""
    checked = identifier(value, 35)
    if checked is None or checked != value:
        raise ValueError(f"a PESC document or tracking id has 1 to 35 characters: {value!r}")
    return value
