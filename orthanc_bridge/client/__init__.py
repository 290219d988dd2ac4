"""The only code that talks HTTP to Orthanc (``http``), what it may send (``paths``), when it
tries again (``retry``), and its errors (``errors``)."""

from orthanc_bridge.client.errors import (
    OrthancDeadline,
    OrthancError,
    OrthancNotFound,
    OrthancRejected,
    OrthancUnavailable,
    orthanc_message,
)
from orthanc_bridge.client.http import OrthancClient, deadline_in, get_client
from orthanc_bridge.client.paths import UnsafePath, literal_query, safe_path

__all__ = [
    "OrthancClient",
    "OrthancDeadline",
    "OrthancError",
    "OrthancNotFound",
    "OrthancRejected",
    "OrthancUnavailable",
    "UnsafePath",
    "deadline_in",
    "get_client",
    "literal_query",
    "orthanc_message",
    "safe_path",
]
