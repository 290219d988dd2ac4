"""What no answer may carry: the server's secrets (the SECRET_KEY, Orthanc's password and the
``Authorization: Basic`` value made of it), and the data of a patient the caller may not see
(world.markers). Bodies and headers are both read. An answer that does carry patient data must
say ``Cache-Control: private, no-store``, once.

The address the client asked for is taken out before the patient markers are looked for: a 404
that repeats the study UID the client sent (in a ``next=`` or the language switcher) tells the
client nothing it did not know.
"""

from __future__ import annotations

import base64
from urllib.parse import quote, urlsplit

import requests

from portal.tests.trust.world import markers

# The patients whose data each persona must never receive; "A2" is patient A's second study,
# the one the link does not share.
HIDDEN = {
    "admin": (),
    "own_group": ("B",),
    "other_group": ("A", "A2"),
    "no_rights": ("A", "A2", "B"),
    "anonymous": ("A", "A2", "B"),
    "link_holder": ("A2", "B"),
}


def secret_values(
    *, secret_key: str, orthanc_user: str, orthanc_password: str, **others: str
) -> dict[str, str]:
    """Every form in which the server's secrets could slip out, by name."""
    basic = base64.b64encode(f"{orthanc_user}:{orthanc_password}".encode()).decode()
    values = {
        "SECRET_KEY": secret_key,
        "Orthanc's password": orthanc_password,
        "Orthanc's Basic authorization": basic,
        **others,
    }
    assert all(len(value) >= 12 for value in values.values()), "a secret too short to look for"
    return values


def _asked(answer: requests.Response) -> list[str]:
    """The address the client sent, as an answer may quote it back."""
    request_url = urlsplit(answer.request.url or "")
    forms = set()
    for path in (request_url.path, f"{request_url.path}?{request_url.query}".rstrip("?")):
        forms |= {path, quote(path), quote(path, safe="")}
    return sorted(forms, key=len, reverse=True)


def _text(answer: requests.Response) -> bytes:
    headers = "".join(f"{name}: {value}\n" for name, value in answer.headers.items())
    return headers.encode("latin-1", "replace") + b"\n" + answer.content


def _shown(side: str, text: bytes) -> list[str]:
    """The names of patient ``side``'s markers found in ``text`` (names in any case)."""
    folded = text.lower()
    return [
        name
        for name, marker in markers(side).items()
        if (marker in text if name == "pixel data" else marker.lower() in folded)
    ]


def _beyond_the_address(answer: requests.Response) -> bytes:
    text = _text(answer)
    for asked in _asked(answer):
        text = text.replace(asked.encode(), b"")
    return text


def problems(answer: requests.Response, *, persona: str, secrets: dict[str, str]) -> list[str]:
    """What this answer shows that it must not, for a failure message (empty when clean)."""
    raw = _text(answer)
    found = [f"{name} in the answer" for name, value in secrets.items() if value.encode() in raw]
    text = _beyond_the_address(answer)
    for side in HIDDEN[persona]:
        found += [f"patient {side}'s {name}" for name in _shown(side, text)]
    # Whatever names a patient or carries their pixels is kept by no cache (web.headers, and
    # Nginx for the bytes it streams itself).
    cache_control = answer.raw.headers.getlist("Cache-Control") if answer.raw else []
    if seen_markers([answer]) and cache_control != ["private, no-store"]:
        found.append(f"patient data with Cache-Control {cache_control}")
    return found


def seen_markers(answers: list[requests.Response]) -> set[tuple[str, str]]:
    """Which (patient, marker) the answers show: the scan's own check that it can see them."""
    seen = set()
    for answer in answers:
        text = _beyond_the_address(answer)
        seen |= {(side, name) for side in ("A", "B") for name in _shown(side, text)}
    return seen
