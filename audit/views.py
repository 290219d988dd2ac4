from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import pgettext

from audit.access import require_audit_reader
from audit.forms import AuditFilterForm
from audit.models import AuditEvent
from audit.selectors import audit_event_list
from web.dates import localized_dates
from web.htmx import render_page
from web.lists import list_page

# The exported fields, one column each (CSV) or one key each (JSON), in this order.
EXPORT_FIELDS = [
    "at", "actor_id", "actor_email", "action", "object_type", "object_id", "object_repr",
    "patient_id", "patient_external_id", "changes",
]  # fmt: skip
# A cell a spreadsheet would run as a formula (=, +, -, @, tab, carriage return).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def _events(request: HttpRequest):
    require_audit_reader(user=request.user)
    form = AuditFilterForm(request.GET or None)
    return audit_event_list(**form.filters()).iterator(chunk_size=2000)


def _download(body: Iterator[str], content_type: str, extension: str) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{extension}"'
    return response  # Cache-Control: private, no-store, as every answer (web.headers)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


@login_required
def event_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered trail as CSV for a spreadsheet, streamed (a long trail is never held in
    memory): UTF-8 with a BOM and ``;`` between cells, what French Excel opens in columns;
    headers and actions in the active language, dates as the pages show them, each change as
    "field: before → after" in one cell."""
    events = _events(request)
    writer = csv.writer(_Echo(), delimiter=";")
    labels = [
        str(getattr(AuditEvent._meta.get_field(name), "verbose_name", name))
        for name in EXPORT_FIELDS
    ]

    def rows() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(labels)
        for event in events:
            values = [getattr(event, name) for name in EXPORT_FIELDS]
            values[0] = date_format(timezone.localtime(event.at), "SHORT_DATETIME_FORMAT")
            values[3] = event.get_action_display()
            if event.object_type == "study":  # "description, 2025-03-10" as the pages show it
                values[6] = localized_dates(event.object_repr)
            colon = pgettext("between a label and its value", ": ")
            values[-1] = " | ".join(
                f"{field}{colon}{before} → {after}" if before else f"{field}{colon}{after}"
                for field, before, after in event.change_lines()
            )
            yield writer.writerow([_cell(v) for v in values])

    return _download(rows(), "text/csv; charset=utf-8", "csv")


@login_required
def event_export_json(request: HttpRequest) -> StreamingHttpResponse:
    """The same rows as JSON (an array), for tools: ISO dates, action codes, changes as kept."""
    events = _events(request)

    def body() -> Iterator[str]:
        yield "["
        for n, event in enumerate(events):
            row = {name: getattr(event, name) for name in EXPORT_FIELDS}
            row["at"] = timezone.localtime(event.at).isoformat()
            yield ("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False)
        yield "\n]\n"

    return _download(body(), "application/json", "json")
