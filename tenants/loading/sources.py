"""Where a load's bytes come from: one file, a folder of files, or a `.zip` of them.

Nothing is extracted to disk: members are read as streams, by name, so a member's name is
only ever a label (no path traversal to fear). A zip is opened from its central directory;
a truncated or damaged archive has none, or members whose data ends early or fails its CRC,
and either is reported as an error of the load, never half-read into it. Declared sizes are
bounded before anything is read (a "zip bomb" declares what it will inflate to, and
`zipfile` stops at the declared size).

The source's digest (SHA-256 of the file; for a folder, of its files' names and digests) is
what makes a re-load of the same export recognisable.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from tenants.loading.problems import ProblemLog

MAX_MEMBERS: Final = 200_000
MAX_TOTAL_BYTES: Final = 8 * 1024**3  # declared, uncompressed
_CHUNK: Final = 1024 * 1024
# Errors that a damaged member raises part-way through reading it.
READ_ERRORS: Final = (zipfile.BadZipFile, EOFError, zlib.error, OSError)


@dataclass(frozen=True)
class Member:
    name: str  # the label in errors: "students.csv", "bundle.zip:students.csv"
    base: str  # the file name alone, lower case: what the bundle format matches on
    size: int
    _zip: zipfile.ZipFile | None
    _entry: str  # the zip entry, or the file path

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self._zip is not None:
            with self._zip.open(self._entry) as stream:
                yield stream
        else:
            with open(self._entry, "rb") as stream:
                yield stream


@dataclass(frozen=True)
class Source:
    name: str
    members: tuple[Member, ...]
    sha256: str
    size: int  # bytes of the file(s) as given

    def member(self, base: str) -> Member | None:
        return next((m for m in self.members if m.base == base), None)


def _ignored(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return not base or base.startswith(".") or name.startswith("__MACOSX/")


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def open_source(
    path: Path, problems: ProblemLog, label: str | None = None
) -> Iterator[Source | None]:
    """The source at `path`, or None with the reason in `problems`. `label` names it in
    errors (an upload's own file name, not its temporary one)."""
    label = label or path.name or str(path)
    if path.is_dir():
        yield _folder(path, label)
    elif not path.is_file():
        problems.add(label, "no such file or folder")
        yield None
    elif zipfile.is_zipfile(path):
        with _zip(path, label, problems) as source:
            yield source
    elif path.suffix.lower() == ".zip":
        problems.add(
            label, "not a complete zip archive (truncated or damaged): no central directory"
        )
        yield None
    else:
        size = path.stat().st_size
        member = Member(label, label.lower(), size, None, str(path))
        yield Source(label, (member,), _file_digest(path), size)


def _folder(path: Path, label: str) -> Source:
    files = sorted(p for p in path.rglob("*") if p.is_file() and not _ignored(p.name))
    digest = hashlib.sha256()
    members = []
    size = 0
    for file in files:
        relative = file.relative_to(path).as_posix()
        digest.update(relative.encode() + b"\0" + _file_digest(file).encode() + b"\n")
        stat = file.stat().st_size
        size += stat
        members.append(Member(relative, file.name.lower(), stat, None, str(file)))
    return Source(label, tuple(members), digest.hexdigest(), size)


@contextmanager
def _zip(path: Path, label: str, problems: ProblemLog) -> Iterator[Source | None]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        problems.add(label, f"not a complete zip archive (truncated or damaged): {exc}")
        yield None
        return
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir() and not _ignored(i.filename)]
        declared = sum(i.file_size for i in entries)
        if len(entries) > MAX_MEMBERS or declared > MAX_TOTAL_BYTES:
            problems.add(
                label,
                f"too large: {len(entries)} files, {declared} bytes unpacked "
                f"(at most {MAX_MEMBERS} files and {MAX_TOTAL_BYTES} bytes)",
            )
            yield None
            return
        members = tuple(
            Member(
                f"{label}:{i.filename}",
                i.filename.rsplit("/", 1)[-1].lower(),
                i.file_size,
                archive,
                i.filename,
            )
            for i in entries
        )
        yield Source(label, members, _file_digest(path), path.stat().st_size)
