from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from audit.forms import AuditFilterForm
from audit.selectors import audit_event_list_for
from portal.htmx import render_page

CSV_COLUMNS = [
    "at", "actor_id", "actor_email", "action", "object_type", "object_id", "object_repr",
    "patient_id", "patient_external_id", "changes",
]  # fmt: skip


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = audit_event_list_for(user=request.user, **form.filters())
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(
        request,
        "audit/event_list.html",
        "event-table",
        {"form": form, "page": page, "query": query.urlencode()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def event_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered trail as CSV, streamed: a long trail is never held in memory."""
    form = AuditFilterForm(request.GET or None)
    events = audit_event_list_for(user=request.user, **form.filters())
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
