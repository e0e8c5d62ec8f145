"""Values reach PESC simple types in their lexical forms, within their length facets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from gateway.pesc import simple_types


def test_text_is_normalised_trimmed_and_clipped() -> None:
    assert simple_types.text("  Zoe\u0308  ", 35) == "Zo\u00eb"
    assert simple_types.text("x" * 40, 35) == "x" * 35
    assert simple_types.text("abc   def", 5) == "abc"  # no trailing space after clipping
    assert simple_types.text("   ", 35) is None
    assert simple_types.text(None, 35) is None


def test_text_drops_what_xml_cannot_carry() -> None:
    assert simple_types.text("A\x00B\x0bC", 10) == "ABC"
    assert simple_types.text("Line\tone\nline two", 40) == "Line one line two"


def test_identifiers_are_never_clipped() -> None:
    assert simple_types.identifier(" 445566 ", 20) == "445566"
    assert simple_types.identifier("x" * 21, 20) is None
    assert simple_types.identifier("12345", 6, 6) is None
    assert simple_types.identifier("a\x01b", 20) is None


@pytest.mark.parametrize(
    ("value", "lexical"),
    [("0.50", "0.50"), ("1E+1", "10"), ("3.750", "3.750"), ("0E-3", "0.000"), ("-0", "-0")],
)
def test_decimals_have_no_exponent(value: str, lexical: str) -> None:
    assert simple_types.decimal(Decimal(value)) == lexical


def test_nan_is_not_a_decimal() -> None:
    with pytest.raises(ValueError, match="not a decimal"):
        simple_types.decimal(Decimal("NaN"))


def test_dates_and_times() -> None:
    assert simple_types.date(date(2024, 6, 7)) == "2024-06-07"
    assert simple_types.year_month(date(2023, 8, 21)) == "2023-08"
    moment = datetime(2025, 2, 3, 14, 5, 9, 123456, tzinfo=UTC)
    assert simple_types.date_time(moment) == "2025-02-03T14:05:09+00:00"
    with pytest.raises(ValueError, match="timezone"):
        simple_types.date_time(moment.replace(tzinfo=None))


def test_document_ids_are_one_to_thirty_five_characters() -> None:
    assert simple_types.document_id("x" * 35) == "x" * 35
    for bad in ("", "x" * 36, " padded "):
        with pytest.raises(ValueError, match="35"):
            simple_types.document_id(bad)
