"""A TranscriptRequest is bounded in elements as well as bytes (issue 12, finding 4): the red
team's 1 MiB request with 5,658 Recipients cost ~0.9 CPU-s to parse and validate."""

from __future__ import annotations

import pytest

from gateway.pesc import parse_transcript_request
from gateway.pesc.errors import DocumentTooLarge
from tests.pesc.documents import NC_REQUEST
from tests.resilience.test_event_loop import with_recipients

MIB = 1024 * 1024


def test_a_request_of_a_few_dozen_elements_is_read() -> None:
    parsed = parse_transcript_request(NC_REQUEST.encode(), max_bytes=MIB, max_elements=500)
    assert parsed.document_id == "CFNC-2025-0001"


def test_the_red_teams_request_is_refused_before_it_is_parsed() -> None:
    body = with_recipients(5658)
    assert len(body) <= 2 * MIB
    with pytest.raises(DocumentTooLarge, match="more than 500 elements"):
        parse_transcript_request(body, max_bytes=2 * MIB, max_elements=500)


@pytest.mark.parametrize("extra", [58, 70])
def test_the_exact_count_decides_near_the_bound(extra: int) -> None:
    # 8 elements per Recipient: 58 more land just under 500 elements, 70 more over.
    body = with_recipients(extra)
    if extra == 58:
        assert len(parse_transcript_request(body, max_bytes=MIB, max_elements=550).recipients) == 60
    else:
        with pytest.raises(DocumentTooLarge):
            parse_transcript_request(body, max_bytes=MIB, max_elements=550)
