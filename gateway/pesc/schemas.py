"""The PESC XML Schemas, compiled once per directory, and validation against them.

The schemas are data kept outside the project (`settings.pesc_dir`, by default
`../shared/pesc`, laid out as in its README): the directory is always passed in, nothing is
copied, and nothing is fetched: every xs:import in these files names a sibling file.

Rendering never validates (it is the hot path); tests validate everything rendered, and the
app may validate incoming requests and, with `GATEWAY_VALIDATE_PESC`, what it sends.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, cast

from lxml import etree

from gateway.errors import ConfigurationError
from gateway.pesc.errors import MalformedDocument
from gateway.pesc.untrusted_xml import parse_untrusted

SchemaName = Literal[
    "HighSchoolTranscript 1.3.0",
    "HighSchoolTranscript 1.5.0",
    "TranscriptRequest 1.4.0",
    "TranscriptResponse 1.4.0",
]

SCHEMA_FILES: Final[dict[SchemaName, str]] = {
    "HighSchoolTranscript 1.3.0": "v1.3.0/HighSchoolTranscript_v1.3.0.xsd",
    "HighSchoolTranscript 1.5.0": "v1.5.0/HighSchoolTranscript_v1.5.0.xsd",
    "TranscriptRequest 1.4.0": "v1.5.0/TranscriptRequest_v1.4.0.xsd",
    "TranscriptResponse 1.4.0": "v1.5.0/TranscriptResponse_v1.4.0.xsd",
}

_STEP_INDEX = re.compile(r"\[\d+\]$")


@dataclass(frozen=True)
class SchemaError:
    """One validation error: the line, the element's local name ('' if none), the message."""

    line: int
    element: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", element {self.element}" if self.element else "")
        return f"{where}: {self.message}"


@dataclass
class _Compiled:
    schema: etree.XMLSchema
    # An XMLSchema keeps its error log on itself: one validation at a time per schema.
    lock: threading.Lock


_cache: dict[tuple[Path, SchemaName], _Compiled] = {}
_cache_lock = threading.Lock()


def schemas_available(pesc_dir: Path) -> bool:
    """True if every schema file this module knows is present under `pesc_dir`."""
    return all((pesc_dir / relative).is_file() for relative in SCHEMA_FILES.values())


def load_schema(pesc_dir: Path, name: SchemaName) -> etree.XMLSchema:
    """The compiled schema, cached per (resolved directory, name).

    A missing or broken file is the operator's to fix: ConfigurationError naming the path.
    """
    return _compiled(pesc_dir, name).schema


def validate(pesc_dir: Path, name: SchemaName, document: bytes) -> list[SchemaError]:
    """The schema errors of `document` (empty if valid). Not well-formed is one error.

    The bytes are parsed as untrusted input (no DTD, no entities, no network).
    """
    try:
        tree = parse_untrusted(document, max_bytes=None, what=name)
    except MalformedDocument as exc:
        return [SchemaError(0, "", str(exc))]
    return validate_tree(pesc_dir, name, tree)


def validate_tree(pesc_dir: Path, name: SchemaName, tree: etree._ElementTree) -> list[SchemaError]:
    """The schema errors of an already parsed document (empty if valid)."""
    compiled = _compiled(pesc_dir, name)
    with compiled.lock:
        if compiled.schema.validate(tree):
            return []
        # lxml-stubs declare the error log without its iterator; its entries are _LogEntry.
        entries = cast("Iterable[Any]", compiled.schema.error_log)
        return [
            SchemaError(int(entry.line), _element_name(entry.path), str(entry.message))
            for entry in entries
        ]


def _compiled(pesc_dir: Path, name: SchemaName) -> _Compiled:
    key = (pesc_dir.resolve(), name)
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = _Compiled(_compile(key[0] / SCHEMA_FILES[name]), threading.Lock())
        return found


def _compile(path: Path) -> etree.XMLSchema:
    if not path.is_file():
        raise ConfigurationError(
            f"PESC schema {path} is missing: set GATEWAY_PESC_DIR to the directory that holds "
            "v1.3.0/ and v1.5.0/"
        )
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise ConfigurationError(f"PESC schema {path} does not compile: {exc}") from exc


def _element_name(path: str | None) -> str:
    """'Contacts' from '/ns1:TranscriptRequest/ns1:Request/RequestedStudent/Person/Contacts[2]'."""
    if not path:
        return ""
    step = path.rsplit("/", 1)[-1]
    return _STEP_INDEX.sub("", step.rsplit(":", 1)[-1])
