"""Input adapters of the ingest pipeline: whatever a door received, as parts to check.

- ``expand_zips``: files as sent by the page or the API; a zip becomes its safe entries, each
  spooled on its own (unsafe paths, bombs and unreadable zips become Rejections, never
  extracted).
- ``multipart_parts``: the body of a STOW-RS request, read in chunks, each part spooled.
- ``spool_body``: a raw request body (``application/dicom``/``application/zip``) to a file.

Nothing here holds a whole upload in memory, and nothing here talks to Orthanc.
"""

from __future__ import annotations

import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

from orthanc_bridge.dicom_checks import HEAD_LENGTH, head_problem

# Entries extracted from a zip stay in memory up to this size, then spill to disk.
SPOOL_MAX_MEMORY = 8 * 1024 * 1024
COPY_CHUNK = 1024 * 1024
# What the zips of a request may always expand to, whatever their compression ratio.
ZIP_FREE_BYTES = 64 * 1024 * 1024
ZIP_SIGNATURE = b"PK\x03\x04"
# A name shown in reports is cut to this length (zip entries' names may run to 64 KiB).
NAME_MAX_LENGTH = 255


@dataclass
class Part:
    """One candidate instance: a name for the report and a readable, seekable file."""

    name: str
    file: IO[bytes]

    def __post_init__(self) -> None:
        self.name = report_name(self.name)


@dataclass
class Rejection:
    """Something an adapter refused before any check (an unsafe zip entry, a zip bomb...)."""

    name: str
    reason: str

    def __post_init__(self) -> None:
        self.name = report_name(self.name)


def report_name(name: str) -> str:
    """A file's name as reports show it: control characters (a NUL, a line break) made
    visible as U+FFFD, cut in the middle past NAME_MAX_LENGTH characters."""
    shown = "".join(
        "\ufffd" if unicodedata.category(char) in ("Cc", "Cs") else char for char in name
    )
    if len(shown) > NAME_MAX_LENGTH:
        half = (NAME_MAX_LENGTH - 1) // 2
        shown = f"{shown[:half]}…{shown[-half:]}"
    return shown or "?"


class RequestInvalid(Exception):
    """The request itself cannot be read (a STOW-RS body that is not multipart/related...)."""


@contextmanager
def _spooled() -> Iterator[IO[bytes]]:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)  # noqa: SIM115
    try:
        yield spool
    finally:
        spool.close()


def _unsafe_zip_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in PurePosixPath(name.replace("\\", "/")).parts


class InflationBudget:
    """What the zips of one request may expand to: each zip UPLOAD_ZIP_MAX_RATIO times its own
    size, and past that, ZIP_FREE_BYTES for all of them together. DICOM rarely deflates more
    than tenfold (a synthetic or blank image a hundredfold); a zip bomb a thousandfold. The
    sizes a zip declares are checked before anything is inflated, and no entry may inflate past
    the size it declares, so the budget bounds the bytes written however the zip lies."""

    def __init__(self) -> None:
        self.free = ZIP_FREE_BYTES

    def admit(self, archive_size: int, declared: int) -> bool:
        beyond = max(0, declared - settings.UPLOAD_ZIP_MAX_RATIO * archive_size)
        if beyond > self.free:
            return False
        self.free -= beyond
        return True


def expand_zips(parts: Iterable[Part]) -> Iterator[Part | Rejection]:
    """Each part as it is, or, for a zip, each of its safe entries (and its refusals)."""
    budget = InflationBudget()
    for part in parts:
        part.file.seek(0)
        # A DICOM file is one, whatever its last bytes hold (a zip is found by its end record,
        # which pixel data may contain by chance).
        is_dicom = not head_problem(part.file.read(HEAD_LENGTH))
        part.file.seek(0)
        is_zip = not is_dicom and zipfile.is_zipfile(part.file)
        part.file.seek(0)
        if is_zip:
            yield from _zip_entries(part, budget)
        else:
            yield part


def _zip_entries(part: Part, budget: InflationBudget) -> Iterator[Part | Rejection]:
    try:
        archive = zipfile.ZipFile(part.file)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Rejection(part.name, _("Unreadable zip file: %(error)s") % {"error": exc})
        return
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if not entries:
            yield Rejection(part.name, _("The zip holds no file."))
            return
        if refusal := _zip_refusal(part, entries, budget):
            yield Rejection(part.name, refusal)
            return
        for info in entries:
            entry_name = f"{part.name}/{info.filename}"
            if _unsafe_zip_name(info.filename):
                yield Rejection(entry_name, _("Unsafe path in the zip (absolute or with ..)."))
                continue
            with _spooled() as spool:
                try:
                    problem = _copy_entry(archive, info, spool)
                except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError,
                        NotImplementedError, zlib.error) as exc:  # fmt: skip
                    problem = _("Unreadable zip entry: %(error)s") % {"error": exc}
                if problem:
                    yield Rejection(entry_name, problem)
                    continue
                spool.seek(0)
                yield Part(entry_name, spool)


def _zip_refusal(part: Part, entries: list[zipfile.ZipInfo], budget: InflationBudget) -> str:
    """Why the whole zip is refused before any of it is inflated; empty if it is not."""
    limit = settings.UPLOAD_ZIP_MAX_EXPANDED_BYTES
    declared = sum(info.file_size for info in entries)
    if declared > limit or len(entries) > settings.UPLOAD_ZIP_MAX_ENTRIES:
        return _(
            "The zip expands to %(size)s bytes in %(count)s files, past the limit of "
            "%(limit)s bytes and %(max_count)s files; nothing in it was stored."
        ) % {
            "size": declared,
            "count": len(entries),
            "limit": limit,
            "max_count": settings.UPLOAD_ZIP_MAX_ENTRIES,
        }
    if not budget.admit(file_size(part.file), declared):
        return _(
            "The zip would expand to %(size)s bytes, more than %(ratio)s times its size: "
            "refused as a zip bomb; nothing in it was inflated nor stored."
        ) % {"size": declared, "ratio": settings.UPLOAD_ZIP_MAX_RATIO}
    return ""


def _copy_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, spool: IO[bytes]) -> str:
    """Inflate one entry into ``spool``; the reason it is refused, or empty. Its first bytes
    decide whether it is DICOM at all (a zip inside the zip is not opened: each nesting would
    multiply what a small upload may inflate to)."""
    with archive.open(info) as source:
        head = source.read(HEAD_LENGTH)
        if head.startswith(ZIP_SIGNATURE):
            return _("A zip inside a zip is not opened: unzip it and send its files.")
        if problem := head_problem(head):
            return problem
        spool.write(head)
        copied = len(head)
        while chunk := source.read(COPY_CHUNK):
            copied += len(chunk)
            # The sizes in a zip's directory can lie; the real bytes count.
            if copied > info.file_size:
                raise zipfile.BadZipFile("entry larger than declared")
            spool.write(chunk)
    return ""


def file_size(fileobj: IO[bytes]) -> int:
    position = fileobj.tell()
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(position)
    return size


def spool_body(stream: IO[bytes], *, max_bytes: int) -> IO[bytes]:
    """A request body copied to a temporary file in chunks (never whole in memory); ValueError
    past ``max_bytes`` or when the client stops sending it."""
    target = tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller, who closes it
    copied = 0
    try:
        while chunk := stream.read(COPY_CHUNK):
            copied += len(chunk)
            if copied > max_bytes:
                raise ValueError(f"body larger than {max_bytes} bytes")
            target.write(chunk)
    except OSError as exc:  # Django's UnreadablePostError: the client went away mid-body
        target.close()
        raise ValueError(f"the body could not be read: {exc}") from exc
    except ValueError:
        target.close()
        raise
    target.seek(0)
    return target


# --- multipart/related (STOW-RS) --------------------------------------------------------------


def multipart_boundary(content_type: str) -> bytes:
    media, _sep, rest = content_type.partition(";")
    if media.strip().lower() != "multipart/related":
        raise RequestInvalid('STOW-RS takes multipart/related; type="application/dicom".')
    for param in rest.split(";"):
        key, _sep, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode()
    raise RequestInvalid("The multipart/related Content-Type has no boundary.")


def multipart_parts(stream: IO[bytes], content_type: str) -> Iterator[Part | Rejection]:
    """The parts of a multipart body, read from ``stream`` in chunks, each spooled.

    The boundary is checked before the first part is read: a bad Content-Type raises at once;
    a body with no part at all raises RequestInvalid. A body that breaks off after some parts
    ends with a Rejection, so what was stored before is still reported.
    """
    boundary = multipart_boundary(content_type)
    return _until_broken(_parts(stream, boundary))


def _until_broken(parts: Iterator[Part]) -> Iterator[Part | Rejection]:
    number = 0
    try:
        for part in parts:
            number += 1
            yield part
    except RequestInvalid as exc:
        if number == 0:
            raise
        yield Rejection(f"part {number + 1}", str(exc))


def _parts(stream: IO[bytes], boundary: bytes, chunk: int = COPY_CHUNK) -> Iterator[Part]:
    dash = b"--" + boundary
    separator = b"\r\n" + dash
    buffer = bytearray()

    def fill() -> bool:
        data = stream.read(chunk)
        if data:
            buffer.extend(data)
        return bool(data)

    while (start := buffer.find(dash)) < 0:
        if not fill():
            raise RequestInvalid("The body has no part.")
    del buffer[: start + len(dash)]
    number = 0
    while True:
        while len(buffer) < 2 and fill():
            pass
        if buffer[:2] == b"--":
            return
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            if not fill():
                raise RequestInvalid("A part has no end of headers.")
        del buffer[: end + 4]
        with _spooled() as spool:
            while (end := buffer.find(separator)) < 0:
                keep = len(buffer) - len(separator)
                if keep > 0:
                    spool.write(buffer[:keep])
                    del buffer[:keep]
                if not fill():
                    raise RequestInvalid("A part is not terminated by the boundary.")
            spool.write(buffer[:end])
            del buffer[: end + len(separator)]
            spool.seek(0)
            number += 1
            yield Part(f"part {number}", spool)
