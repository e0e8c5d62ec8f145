"""A small XML writer for the documents the gateway builds: text appended in order, no tree.

The PESC documents written here have a structure fixed by the code (each builder appends
children in the order of the schema's xs:sequence), so a tree buys nothing: appending strings
and joining once is several times cheaper than building ~600 lxml elements and serialising
them, and a transcript is rendered on every fetch. The output is what lxml would write for the
same elements, byte for byte (tests/pesc/test_writer.py holds it to that): `<tag/>` for an
element left empty, text escaped as lxml escapes it (`&`, `<`, `>`, and CR as `&#13;`), UTF-8,
and an XML declaration with double quotes.

A value holding a character XML 1.0 cannot carry (§2.2, production [2]) is refused with
ValueError, as lxml refuses it: `simple_types` strips those from free text before it gets here.
"""

from __future__ import annotations

import re

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Anything that needs escaping, or that XML cannot carry at all.
_SPECIAL = re.compile("[&<>\r]|[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(value: str) -> str:
    """Character data as lxml writes it; ValueError for characters XML 1.0 forbids."""
    if _SPECIAL.search(value) is None:
        return value  # the common case: one scan, no copy
    if _NOT_XML_CHAR.search(value):
        raise ValueError(
            "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
        )
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


class XmlWriter:
    """Elements written in document order. `open`/`close` bracket an element with children,
    `leaf` writes `<tag>text</tag>` (nothing for None), `document()` gives the bytes."""

    __slots__ = ("_open", "_parts")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._open: list[int] = []  # where each open element's start tag is in _parts

    def open(self, tag: str, attributes: str = "") -> None:
        """Start `<tag>`; `attributes` is pre-escaped text such as ` xmlns:p="..."`."""
        self._open.append(len(self._parts))
        self._parts.append(f"<{tag}{attributes}>")

    def close(self, tag: str) -> None:
        parts = self._parts
        start = self._open.pop()
        if start == len(parts) - 1:
            # Nothing was written inside: lxml writes an empty element as <tag/>.
            parts[start] = parts[start][:-1] + "/>"
        else:
            parts.append(f"</{tag}>")

    def leaf(self, tag: str, value: str | None) -> None:
        """`<tag>value</tag>` unless value is None (PESC strings are never empty)."""
        if value is not None:
            self._parts.append(f"<{tag}>{escape(value)}</{tag}>")

    def raw(self, fragment: str) -> None:
        """Markup written by this module's callers from constants (no escaping)."""
        self._parts.append(fragment)

    def text(self) -> str:
        return "".join(self._parts)

    def document(self) -> bytes:
        """The document as UTF-8 bytes after an XML declaration."""
        return (XML_DECLARATION + "".join(self._parts)).encode("utf-8")
