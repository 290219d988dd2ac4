"""The only code that talks HTTP to Orthanc (``http``), and its errors (``errors``)."""

from orthanc_bridge.client.errors import (
    OrthancDeadline,
    OrthancError,
    OrthancNotFound,
    OrthancRejected,
    OrthancUnavailable,
    UnsafePath,
    orthanc_message,
    safe_path,
)
from orthanc_bridge.client.http import OrthancClient, deadline_in, get_client

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
    "orthanc_message",
    "safe_path",
]
