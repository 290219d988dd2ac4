"""The view serving ``/api/schema``. Apart from ``web.api.schema``: drf-spectacular's views
module reads ``DEFAULT_SCHEMA_CLASS`` (``web.api.schema.PortalAutoSchema``) as it is imported, so
the schema class cannot import it back."""

from __future__ import annotations

import threading
from typing import Any

from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated one request at a time per process.

    drf-spectacular's generator keeps state in module globals (the view being introspected, its
    warning counts) and is not thread-safe (tfranzel/drf-spectacular#1123, #1368): under
    gunicorn's threaded workers, schema requests arriving together failed with a 500.
    """

    _generating = threading.Lock()

    def _get_schema_response(self, request: Any) -> Any:
        with self._generating:
            return super()._get_schema_response(request)
