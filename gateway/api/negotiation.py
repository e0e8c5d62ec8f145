"""Content negotiation for transcripts: PESC XML unless the client prefers JSON."""

from __future__ import annotations

from gateway.errors import ProblemError

XML = "application/xml"
JSON = "application/json"


class NotAcceptable(ProblemError):
    status = 406
    slug = "not-acceptable"
    title = "Not acceptable"


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def choose(accept: str | None) -> str:
    """XML or JSON for an Accept header (RFC 9110 §12.5.1, media ranges with q-values)."""
    if not accept:
        return XML
    best, best_q = "", 0.0
    for item in accept.split(","):
        media, *params = item.strip().split(";")
        media = media.strip().lower()
        q = _quality(params)
        if q <= 0:
            continue
        if media in (XML, "text/xml", "application/*", "*/*"):
            candidate = XML
        elif media == JSON:
            candidate = JSON
        else:
            continue
        # Exact JSON beats a wildcard of equal weight.
        if q > best_q or (q == best_q and candidate == JSON and media == JSON):
            best, best_q = candidate, q
    if not best:
        raise NotAcceptable(
            "This resource is available as application/xml (PESC) or application/json."
        )
    return best
