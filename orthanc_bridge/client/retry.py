"""When the Orthanc client tries a request again, and when never.

Only methods that are safe to repeat are retried, and never after a read timeout: a hung Orthanc
would double every wait. A POST of an instance is retried by nobody but the caller, who knows
whether it is idempotent. A safe request whose pooled connection was dropped before any answer
(Orthanc closing it at its keep-alive timeout, or as it resumes) is tried once more.
"""

from __future__ import annotations

from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry


class SafeRetry(Retry):
    """urllib3's Retry, but a read timeout is raised at once instead of counted as a retry."""

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):  # type: ignore[no-untyped-def]
        if isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def safe_retries() -> SafeRetry:
    return SafeRetry(
        total=2,
        connect=2,
        read=1,  # a dropped connection once; a read timeout never (see SafeRetry)
        backoff_factor=0.2,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
    )
