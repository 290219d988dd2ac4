"""The view serving ``/api/schema``. Apart from ``web.api.schema``: drf-spectacular's views
module reads ``DEFAULT_SCHEMA_CLASS`` (``web.api.schema.PortalAutoSchema``) as it is imported, so
the schema class cannot import it back."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django.utils.translation import get_language
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated once per process, version and language.

    drf-spectacular's generator keeps state in module globals (the view being introspected, its
    warning counts) and is not thread-safe (tfranzel/drf-spectacular#1123, #1368): under
    gunicorn's threaded workers, schema requests arriving together failed with a 500. The
    schema only changes with the code, and anyone may ask for it: it is made once, under a lock,
    and kept.
    """

    _generating = threading.Lock()
    _made: ClassVar[dict[tuple[str | None, str], Any]] = {}

    def _get_schema_response(self, request: Any) -> Any:
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, get_language())
        with self._generating:
            if key not in self._made:
                self._made[key] = super()._get_schema_response(request).data
        filename = self._get_filename(request, version)
        return Response(
            data=self._made[key],
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )
