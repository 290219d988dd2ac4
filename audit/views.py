from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from audit.access import require_audit_reader
from audit.forms import AuditFilterForm
from audit.selectors import audit_event_list
from web.htmx import render_page
from web.lists import list_page

CSV_COLUMNS = [
    "at", "actor_id", "actor_email", "action", "object_type", "object_id", "object_repr",
    "patient_id", "patient_external_id", "changes",
]  # fmt: skip


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    require_audit_reader(user=request.user)
    form = AuditFilterForm(request.GET or None)
    page = list_page(request, audit_event_list(**form.filters()))
    return render_page(
        request, "audit/event_list.html", "event-table", {"form": form, "page": page}
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def event_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered trail as CSV, streamed: a long trail is never held in memory."""
    require_audit_reader(user=request.user)
    form = AuditFilterForm(request.GET or None)
    events = audit_event_list(**form.filters())
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            values = [getattr(event, column) for column in CSV_COLUMNS]
            values[0] = timezone.localtime(event.at).isoformat()
            yield writer.writerow(values)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
