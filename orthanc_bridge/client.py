"""The only place that talks HTTP to Orthanc.

One pooled ``requests.Session`` per process, connect and read timeouts on every call, retries only
for idempotent calls, and Orthanc's errors turned into the bridge's own exceptions so callers never
see ``requests``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import IO, Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


class OrthancError(Exception):
    """Base of the bridge's errors."""


class OrthancUnavailable(OrthancError):
    """Orthanc could not be reached, timed out, or failed on its side (5xx)."""


class OrthancRejected(OrthancError):
    """Orthanc refused the request (4xx); ``status`` and Orthanc's message are kept."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class OrthancNotFound(OrthancRejected):
    pass


def _orthanc_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason
    if isinstance(body, dict):
        return str(body.get("Details") or body.get("Message") or body)
    return str(body)[:300]


class OrthancClient:
    def __init__(
        self,
        base_url: str,
        username: str = "",
        password: str = "",
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        pool_size: int = 16,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        if username:
            self.session.auth = (username, password)
        # Retries only for methods that are safe to repeat; a POST of an instance is retried by
        # nobody but the caller, who knows whether it is idempotent.
        retry = Retry(
            total=2,
            connect=2,
            read=1,
            backoff_factor=0.2,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            raise_on_status=False,
        )
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # --- plumbing -----------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, timeout: tuple[float, float], stream: bool, **kwargs: Any
    ) -> requests.Response:
        """One HTTP call; connection failures and Orthanc's 5xx become OrthancUnavailable."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            response = self.session.request(method, url, timeout=timeout, stream=stream, **kwargs)
        except requests.RequestException as exc:
            raise OrthancUnavailable(f"Orthanc did not answer {method} {path}: {exc}") from exc
        if response.status_code >= 500:
            message = _orthanc_message(response)
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
        """A call whose 4xx answers raise OrthancRejected (OrthancNotFound for 404)."""
        response = self._send(
            method, path, timeout=timeout or self.timeout, stream=stream, **kwargs
        )
        if response.status_code >= 400:
            message = _orthanc_message(response)
            response.close()
            error = OrthancNotFound if response.status_code == 404 else OrthancRejected
            raise error(response.status_code, message)
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, data=json.dumps(body), **kwargs).json()

    # --- operations ---------------------------------------------------------------------------

    def system(self, *, timeout: float = 2.0) -> dict[str, Any]:
        return self.get_json("/system", timeout=(timeout, timeout))

    def find_studies(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """Studies matching DICOM tags, expanded (POST /tools/find, read-only)."""
        return self.post_json("/tools/find", {"Level": "Study", "Query": query, "Expand": True})

    def study_series(self, study_id: str) -> list[dict[str, Any]]:
        return self.get_json(f"/studies/{study_id}/series")

    def study(self, study_id: str) -> dict[str, Any]:
        return self.get_json(f"/studies/{study_id}")

    def store_instance(self, body: IO[bytes] | bytes) -> dict[str, Any]:
        """POST /instances; the file object is streamed, never read whole here.

        Returns Orthanc's answer, whose ``Status`` is ``Success`` or ``AlreadyStored``.
        """
        return self.request(
            "POST",
            "/instances",
            data=body,
            headers={"Content-Type": "application/dicom"},
            timeout=(self.timeout[0], max(self.timeout[1], 120.0)),
        ).json()

    def instance_preview(self, instance_id: str) -> tuple[bytes, str]:
        response = self.request(
            "GET", f"/instances/{instance_id}/preview", headers={"Accept": "image/png"}
        )
        return response.content, response.headers.get("Content-Type", "image/png")

    def study_archive(self, study_id: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """The study as a zip, streamed in chunks as Orthanc produces it."""
        response = self.request(
            "GET", f"/studies/{study_id}/archive", stream=True, timeout=(self.timeout[0], 300.0)
        )
        try:
            yield from response.iter_content(chunk_size=chunk_size)
        finally:
            response.close()

    def lookup_study(self, study_instance_uid: str) -> str | None:
        """Orthanc's ID of the study with this StudyInstanceUID, or None."""
        for item in self.request("POST", "/tools/lookup", data=study_instance_uid).json():
            if item.get("Type") == "Study":
                return item["ID"]
        return None

    def proxy(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
        read_timeout: float = 120.0,
    ) -> requests.Response:
        """A streamed request whose 4xx answers are returned, not raised (DICOMweb passes them on).

        Connection failures and 5xx still raise OrthancUnavailable.
        """
        return self._send(
            method,
            path,
            params=params,
            headers=headers,
            data=data,
            stream=True,
            timeout=(self.timeout[0], read_timeout),
        )

    def delete(self, path: str) -> None:
        self.request("DELETE", path).close()


@lru_cache(maxsize=1)
def _client_for(url: str, user: str, password: str) -> OrthancClient:
    return OrthancClient(url, user, password)


def get_client() -> OrthancClient:
    """The process-wide client for the configured Orthanc (settings can change in tests)."""
    return _client_for(settings.ORTHANC_URL, settings.ORTHANC_USER, settings.ORTHANC_PASSWORD)
