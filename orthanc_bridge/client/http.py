"""The only place that talks HTTP to Orthanc: one pooled session per process, and three
guarantees for every call.
- **Paths are safe** (``paths.safe_path``): nothing built from user input can climb out of the
  resource it names; redirects from Orthanc are never followed.
- **Waiting is bounded:** a read timeout of ``ORTHANC_TIMEOUT_SECONDS`` (also the idle timeout
  of streams), an optional absolute deadline, and no retry after a read timeout (``retry``).
- **A hung Orthanc fails fast:** once it does not answer in time it is marked unresponsive in
  the shared cache; later calls raise ``OrthancUnavailable`` at once, but for one probe of
  ``/system`` every ``ORTHANC_PROBE_SECONDS`` (and the health check's), until it answers again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import IO, Any

import requests
import urllib3
from django.conf import settings
from django.core.cache import cache
from requests.adapters import HTTPAdapter

from orthanc_bridge.client.errors import (
    OrthancDeadline,
    OrthancNotFound,
    OrthancRejected,
    OrthancUnavailable,
    may_have_arrived,
    orthanc_message,
)
from orthanc_bridge.client.paths import literal_query, safe_path
from orthanc_bridge.client.retry import safe_retries

logger = logging.getLogger(__name__)

RESOURCE_FOLDERS = {"Study": "studies", "Series": "series", "Instance": "instances"}
REQUEST_PROBE_TIMEOUT = 1.0
DEADLINE_TOLERANCE = 1.0
RESPONSIVE_MEMO_SECONDS = 0.5


class OrthancClient:
    def __init__(
        self,
        base_url: str,
        username: str = "",
        password: str = "",
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 20.0,
        pool_size: int = 16,
        probe_seconds: float = 2.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.probe_seconds = probe_seconds
        # Keyed by server: what is known of one Orthanc says nothing of another.
        server = hashlib.sha256(self.base_url.encode()).hexdigest()[:16]
        self._unresponsive_key = f"orthanc:{server}:unresponsive"
        self._probe_key = f"orthanc:{server}:probe"
        self._responsive_until = 0.0  # time.monotonic() until which the mark is not re-read
        self.session = requests.Session()
        if username:
            self.session.auth = (username, password)
        adapter = HTTPAdapter(
            pool_connections=2, pool_maxsize=pool_size, max_retries=safe_retries()
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # --- knowing that Orthanc does not answer (shared by every worker through the cache) -----
    # Redis down is a miss here, never a failure (web.cache.DegradingRedisCache): every worker
    # then finds out for itself.

    def mark_unresponsive(self, reason: str) -> None:
        self._responsive_until = 0.0
        if not self.known_unresponsive():
            logger.warning("Orthanc at %s marked unresponsive: %s", self.base_url, reason)
        cache.set(self._unresponsive_key, reason[:300], None)
        # The next probe comes one interval later, not with the very next request.
        cache.set(self._probe_key, 1, self.probe_seconds)

    def mark_responsive(self) -> None:
        if self.known_unresponsive():
            logger.warning("Orthanc at %s answers again", self.base_url)
            cache.delete(self._unresponsive_key)

    def known_unresponsive(self) -> bool:
        return cache.get(self._unresponsive_key) is not None

    def _fail_fast(self) -> None:
        """Raise at once while Orthanc is known to be unresponsive, but let one call in every
        ``probe_seconds`` find out whether it answers again.

        The shared mark is read at most every RESPONSIVE_MEMO_SECONDS by this process: a viewer's
        hundreds of frame requests do not each cost a cache round trip."""
        if time.monotonic() < self._responsive_until:
            return
        if not self.known_unresponsive():
            self._responsive_until = time.monotonic() + RESPONSIVE_MEMO_SECONDS
            return
        if not cache.add(self._probe_key, 1, self.probe_seconds):
            raise OrthancUnavailable("Orthanc is not responding (known from an earlier call).")
        # A request that probes waits a short while only: a live Orthanc answers in ms.
        self.probe(timeout=REQUEST_PROBE_TIMEOUT)

    def probe(self, *, timeout: float = 2.0) -> None:
        """GET /system with a short timeout; records whether Orthanc answers. Raises
        OrthancUnavailable (or OrthancRejected for a 4xx) when it does not."""
        try:
            response = self.session.get(
                f"{self.base_url}/system", timeout=(timeout, timeout), allow_redirects=False
            )
        except requests.RequestException as exc:
            self.mark_unresponsive(f"GET /system: {exc}")
            raise OrthancUnavailable(f"Orthanc did not answer GET /system: {exc}") from exc
        self.mark_responsive()
        if response.status_code >= 500:
            raise OrthancUnavailable(f"Orthanc failed on GET /system: {orthanc_message(response)}")
        if response.status_code >= 400:
            raise OrthancRejected(response.status_code, orthanc_message(response))

    def _send(
        self,
        method: str,
        path: str,
        *,
        timeout: tuple[float, float],
        stream: bool,
        deadline: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One HTTP call; connection failures, timeouts and Orthanc's 5xx become
        OrthancUnavailable. ``deadline`` (time.monotonic()) caps the read timeout."""
        url = f"{self.base_url}{safe_path(path)}"
        cut_by_deadline = False
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OrthancDeadline(f"No time left to ask Orthanc for {method} {path}.")
            # A call that could still wait (almost) the whole read timeout and got no answer
            # says Orthanc is unresponsive; one cut short by the deadline says nothing of it.
            cut_by_deadline = remaining < timeout[1] - DEADLINE_TOLERANCE
            timeout = (min(timeout[0], remaining), min(timeout[1], remaining))
        self._fail_fast()
        query = literal_query(kwargs.pop("params", None) or [])
        try:
            prepared = self.session.prepare_request(requests.Request(method, url, **kwargs))
            if query:
                # Set after preparing: requests would re-encode it (``*`` stays, ``,`` too).
                prepared.url = f"{prepared.url}?{query}"
            response = self.session.send(
                prepared, timeout=timeout, stream=stream, allow_redirects=False
            )
        except requests.ReadTimeout as exc:
            # Sent, unanswered: Orthanc may still carry it out (``sent``).
            if cut_by_deadline:
                # The request ran out of its own time; Orthanc may be busy, not hung.
                raise OrthancDeadline(f"{method} {path} ran past its deadline", sent=True) from exc
            self.mark_unresponsive(f"{method} {path}: {exc}")
            raise OrthancUnavailable(
                f"Orthanc did not answer {method} {path}: {exc}", sent=True
            ) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.mark_unresponsive(f"{method} {path}: {exc}")
            raise OrthancUnavailable(
                f"Orthanc did not answer {method} {path}: {exc}", sent=may_have_arrived(exc)
            ) from exc
        except requests.RequestException as exc:
            raise OrthancUnavailable(
                f"Orthanc did not answer {method} {path}: {exc}", sent=may_have_arrived(exc)
            ) from exc
        if response.status_code >= 500:
            message = orthanc_message(response)
            response.close()
            raise OrthancUnavailable(f"Orthanc failed on {method} {path}: {message}")
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        timeout: tuple[float, float] | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """A call whose 4xx answers raise OrthancRejected (OrthancNotFound for 404); a redirect
        (never followed) is refused the same way."""
        response = self._send(
            method, path, timeout=timeout or self.timeout, stream=stream, **kwargs
        )
        if response.status_code >= 300:
            message = orthanc_message(response)
            response.close()
            error = OrthancNotFound if response.status_code == 404 else OrthancRejected
            raise error(response.status_code, message)
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, data=json.dumps(body), **kwargs).json()

    # --- operations ---------------------------------------------------------------------------

    def resource_patient_ids(
        self, uid: str, level: str, *, deadline: float | None = None
    ) -> set[str]:
        """The PatientIDs under which Orthanc holds a resource with this DICOM UID, at one level
        (Study, Series or Instance). Orthanc keys its resources by (PatientID, UIDs), so the
        same UID can exist under several patients; empty when it does not exist."""
        found = self.request("POST", "/tools/lookup", data=uid, deadline=deadline).json()
        patient_ids = set()
        for item in found:
            if item.get("Type") != level:
                continue
            resource = RESOURCE_FOLDERS[level]
            try:
                patient = self.get_json(f"/{resource}/{item['ID']}/patient", deadline=deadline)
            except OrthancNotFound:
                continue  # deleted between the lookup and now
            patient_ids.add(patient.get("MainDicomTags", {}).get("PatientID", ""))
        return patient_ids

    def find_studies(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """Studies matching DICOM tags, expanded (POST /tools/find, read-only)."""
        return self.post_json("/tools/find", {"Level": "Study", "Query": query, "Expand": True})

    def study_series(self, study_id: str) -> list[dict[str, Any]]:
        return self.get_json(f"/studies/{study_id}/series")

    def store_instance(
        self, body: IO[bytes] | bytes, *, deadline: float | None = None
    ) -> dict[str, Any]:
        """POST /instances; the file object is streamed, never read whole here.

        Returns Orthanc's answer, whose ``Status`` is ``Success`` or ``AlreadyStored``.
        """
        return self.request(
            "POST",
            "/instances",
            data=body,
            headers={"Content-Type": "application/dicom"},
            deadline=deadline,
        ).json()

    def instance_preview(self, instance_id: str) -> tuple[bytes, str]:
        response = self.request(
            "GET", f"/instances/{instance_id}/preview", headers={"Accept": "image/png"}
        )
        return response.content, response.headers.get("Content-Type", "image/png")

    def study_archive(self, study_id: str) -> Iterator[bytes]:
        """The study as a zip, streamed in chunks as Orthanc produces it."""
        response = self.request("GET", f"/studies/{study_id}/archive", stream=True)
        # A zip is whole only if its end-of-directory record is in its last bytes.
        return self.stream_whole(response, ending=ZIP_END_OF_DIRECTORY, window=ZIP_TAIL_BYTES)

    def stream_whole(
        self, response: requests.Response, *, ending: bytes = b"", window: int = 0
    ) -> Iterator[bytes]:
        """The body of a streamed answer, chunk by chunk, as it comes; OrthancUnavailable if
        Orthanc stalls past the read timeout, breaks the connection, or ends before ``ending``
        appears in the last ``window`` bytes. Orthanc streams zips and multipart answers with
        "Connection: close" and no length, so a crash mid-way would otherwise look like a clean
        end. The response is closed in every case (also when the consumer stops early)."""
        tail = b""
        try:
            try:
                for chunk in response.raw.stream(STREAM_CHUNK, decode_content=False):
                    if window:
                        tail = (tail + chunk[-window:])[-window:]  # never a copy of the chunk
                    yield chunk
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self.mark_unresponsive(f"stream of {response.url}: {exc}")
                raise OrthancUnavailable(f"Orthanc's answer broke off: {exc}") from exc
            if ending and ending not in tail:
                raise OrthancUnavailable(f"Orthanc's answer ended before its end: {response.url}")
        finally:
            response.close()

    def proxy(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
        deadline: float | None = None,
    ) -> requests.Response:
        """A streamed request whose 4xx answers are returned, not raised (DICOMweb passes them on);
        failures, timeouts and 5xx still raise. The read timeout is the stream's idle timeout."""
        return self._send(
            method,
            path,
            params=params,
            headers=headers,
            data=data,
            stream=True,
            timeout=self.timeout,
            deadline=deadline,
        )

    def delete(self, path: str) -> None:
        self.request("DELETE", path).close()


STREAM_CHUNK = 1024 * 1024
# A zip's end-of-central-directory record sits in its last 22 bytes plus its comment (< 64 KiB).
ZIP_END_OF_DIRECTORY = b"PK\x05\x06"
ZIP_TAIL_BYTES = 22 + 65535


@lru_cache(maxsize=4)
def _client_for(
    url: str, user: str, password: str, connect: float, read: float, probe: float
) -> OrthancClient:
    return OrthancClient(
        url, user, password, connect_timeout=connect, read_timeout=read, probe_seconds=probe
    )


def get_client() -> OrthancClient:
    """The process-wide client for the configured Orthanc (settings can change in tests)."""
    return _client_for(
        settings.ORTHANC_URL,
        settings.ORTHANC_USER,
        settings.ORTHANC_PASSWORD,
        settings.ORTHANC_CONNECT_TIMEOUT_SECONDS,
        settings.ORTHANC_TIMEOUT_SECONDS,
        settings.ORTHANC_PROBE_SECONDS,
    )


def deadline_in(seconds: float) -> float:
    """An absolute deadline for ``deadline=`` arguments."""
    return time.monotonic() + seconds
