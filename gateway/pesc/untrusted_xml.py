"""Parsing XML that arrives from outside: bounded, without DTDs, entities or network.

The defences, in the order they run:
1. Size: a document over `max_bytes` is refused before the parser sees a byte (413).
2. DOCTYPE: refused outright (400). PESC schemas declare no DTD, and a DTD is how the
   "billion laughs" entity expansion and external-entity (XXE) reads get in. The raw bytes are
   searched in the encodings a PESC document may use; the parsed document's docinfo is checked
   again for any other encoding.
3. The parser itself never resolves entities, never loads a DTD, never touches the network
   and keeps libxml2's limits on tree depth and text size (`huge_tree=False`).
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from gateway.pesc.errors import DocumentTooLarge, MalformedDocument

_DOCTYPE_MARKERS: Final = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def parse_untrusted(
    data: bytes, *, max_bytes: int | None, what: str = "document"
) -> etree._ElementTree:
    """The parsed document, or MalformedDocument / DocumentTooLarge naming what is wrong.

    `max_bytes` None means no bound (for documents the gateway wrote itself). `what` names the
    document in messages ("TranscriptRequest"). A new parser per call: lxml parsers must not be
    shared between threads.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise DocumentTooLarge(
            f"The {what} has {len(data)} bytes; at most {max_bytes} are accepted."
        )
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        raise MalformedDocument(f"The {what} has a DOCTYPE declaration; DTDs are not accepted.")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise MalformedDocument(
            f"The {what} is not well-formed XML: line {line}, column {column}: {exc.msg}"
        ) from None
    tree = root.getroottree()
    # lxml sets internalDTD for every DOCTYPE, with or without an internal subset.
    dtd: etree.DTD | None = tree.docinfo.internalDTD
    if dtd is not None:
        raise MalformedDocument(f"The {what} has a DOCTYPE declaration; DTDs are not accepted.")
    return tree
