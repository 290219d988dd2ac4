"""A study as a zip, streamed from Orthanc: for the patient page and for share links."""

from __future__ import annotations

from collections.abc import Callable

from django.http import StreamingHttpResponse

from orthanc_bridge.client import get_client


def archive_response(
    *, orthanc_study_id: str, filename: str, record: Callable[[], None]
) -> StreamingHttpResponse:
    """The zip of an authorized study; ``record`` writes its audit event once Orthanc has begun
    to answer (Orthanc down: OrthancUnavailable is raised here, and rendered as the 503 page)."""
    chunks = get_client().study_archive(orthanc_study_id)
    first = next(chunks, b"")
    record()

    def body():
        yield first
        yield from chunks

    response = StreamingHttpResponse(body(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename.replace(chr(34), "")}"'
    return response  # Cache-Control: private, no-store, as every answer (web.headers)
