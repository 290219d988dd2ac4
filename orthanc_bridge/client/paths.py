"""What may be sent to Orthanc: the path rule, and queries Orthanc reads as meant."""

from __future__ import annotations

import re
from urllib.parse import quote

# One path segment Orthanc may be asked for: UIDs, Orthanc IDs, hex tags, words, frame lists.
SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_,\-]+(?:\.[A-Za-z0-9_,\-]+)*")


class UnsafePath(ValueError):
    """A path that could leave the resource it names; never sent to Orthanc."""


def safe_path(path: str) -> str:
    """``path`` unchanged if every segment is safe (see SAFE_SEGMENT), else UnsafePath.

    Dots may only separate characters (as in a UID), so ``.``, ``..`` and ``.x`` are refused;
    ``%`` is refused, so no encoded form of them can reach Orthanc's own decoding either.
    """
    if not path.startswith("/"):
        raise UnsafePath(f"not an absolute path: {path!r}")
    segments = path[1:].split("/")
    if not all(SAFE_SEGMENT.fullmatch(segment) for segment in segments):
        raise UnsafePath(f"unsafe path for Orthanc: {path!r}")
    return path


# Characters a query value may carry to Orthanc as they are (see literal_query).
QUERY_LITERALS = "*?,/:+-._~!$'()@;"


def literal_query(params: list[tuple[str, str]]) -> str:
    """A query string Orthanc reads as the client meant it.

    Orthanc 1.10 does not percent-decode query values: ``PatientName=BRAIN%2A`` matches nothing,
    and ``window=200%2C800`` is refused. Wildcards and DICOM punctuation are therefore sent as
    characters; only what would break the request line or the query's own syntax is encoded.
    """
    return "&".join(
        f"{quote(key, safe=QUERY_LITERALS)}={quote(_caret_as_wildcard(value), safe=QUERY_LITERALS)}"
        for key, value in params
    )


def _caret_as_wildcard(value: str) -> str:
    """``^`` (the component separator of person names) and spaces as the one-character
    wildcard ``?``.

    urllib3 percent-encodes ``^`` and spaces in every query it sends, and Orthanc 1.10 then
    matches ``%5E`` literally: ``PatientName=DOE^J*`` or ``VAN DER*`` would find nothing. ``?``
    matches them (and, rarely, another character in their place), so the search finds what the
    user meant. Accented letters cannot be sent as characters at all: such searches find
    nothing until the portal answers searches itself.
    """
    return value.replace("^", "?").replace(" ", "?")
