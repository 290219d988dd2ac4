"""QIDO-RS answered from the study index: the cost follows what the user sees, not the archive.

- Which studies match, in what order (newest first), and the ``limit``/``offset`` page are
  decided in SQL on the index (index.matching), restricted to the studies of the patients the
  user sees. The answer is Orthanc's own for those studies: kept in the index (index.answers;
  the missing ones asked for the page's studies in one request), or, with ``includefield``,
  asked of Orthanc for exactly those studies (a UID list).
- A filter the index does not hold (e.g. ``InstitutionName``), and every series or instance
  search, is answered by asking Orthanc batch by batch of the user's matching studies (UID
  lists), until the page is full: at worst the user's studies are read, never the archive.
- A StudyInstanceUID the index has not seen yet is looked up in Orthanc (a study stored a
  moment ago by a modality is found at once).
- A study whose UID is held by several patients is answered to nobody (as study_for_viewing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from orthanc_bridge.client import deadline_in, get_client
from orthanc_bridge.dicom_checks import is_uid
from orthanc_bridge.dicomweb.upstream import orthanc_refusal, upstream_headers
from orthanc_bridge.index import answers
from orthanc_bridge.index.answers import PATIENT_ID, STUDY_UID, value_of
from orthanc_bridge.index.matching import list_values, study_attribute, study_filter
from orthanc_bridge.index.models import IndexedStudy
from orthanc_bridge.index.services import index_study_uid
from web.errors import BadRequest, PortalError

# What Orthanc adds to series and instances found across all studies (none when one study is
# named): the portal names studies in every batch, so it asks for these itself.
STUDY_LEVEL_FIELDS = (
    "00080020", "00080030", "00080050", "00080090", "00100010", PATIENT_ID, "00100030",
    "00100040", "00200010",
)  # fmt: skip
BATCH = 100  # studies named in one request to Orthanc
NEW_UIDS_LOOKED_UP = 10  # per search: a long list of unknown UIDs is not a scan either
OFFSET_MAX = 10_000_000
# What a key passed on to Orthanc may look like: a keyword or a tag, nothing else.
ORTHANC_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}|[0-9A-Fa-f]{8}")


@dataclass
class Search:
    level: str  # studies, series, instances
    offset: int
    limit: int
    limit_given: bool
    studies: QuerySet[IndexedStudy]
    includefields: list[str] = field(default_factory=list)
    # Filters the index does not hold, for Orthanc to match (as the client wrote them).
    residual: list[tuple[str, str]] = field(default_factory=list)
    names_a_study: bool = False


def qido(
    request: HttpRequest,
    level: str,
    studies: QuerySet[IndexedStudy],
    *,
    look_up_new_uids: bool = True,
) -> HttpResponse:
    """A search among ``studies`` (what the caller may list: dicomweb.access)."""
    _require_json_answer(request)
    search = _search(request, level, studies, look_up_new_uids)
    ordered = search.studies.order_by("-study_date", "-study_time", "-id")
    deadline = deadline_in(settings.ORTHANC_TIMEOUT_SECONDS)  # one bound for the whole search
    headers = {
        **upstream_headers(request),
        "Accept": "application/dicom+json",
        "Accept-Encoding": "identity",  # parsed here, not passed on
    }
    if level == "studies" and not search.residual and answers.servable(search.includefields):
        result, more = _from_the_index(request, search, ordered, deadline)
    elif level == "studies" and not search.residual:
        rows = list(ordered.values_list("study_uid", "dicom_patient_id")[_page(search)])
        found = _ask_orthanc(search, rows, headers, deadline)
        more = len(rows) > search.limit
        result = found[: search.limit]
    else:
        result, more = _by_batches(search, ordered, headers, deadline)
    if search.level != "studies" and search.names_a_study and not _asked(search, PATIENT_ID):
        for item in result:
            item.pop(PATIENT_ID, None)  # asked for the check only
    response = HttpResponse(json.dumps(result), content_type="application/dicom+json")
    if more and not search.limit_given:
        response["Warning"] = (
            f'299 {request.get_host()} "There are additional results that can be requested."'
        )
    return response


def _from_the_index(
    request: HttpRequest, search: Search, ordered: QuerySet[IndexedStudy], deadline: float
) -> tuple[list[dict], bool]:
    """The page written from the answers kept in the index; those missing asked of Orthanc in
    one request for the page's studies (index.answers)."""
    rows = list(
        ordered.values_list("pk", "study_uid", "dicom_patient_id", "changed_at", "qido_answer")[
            _page(search)
        ]
    )
    more = len(rows) > search.limit
    rows = rows[: search.limit]
    kept = {pk: answer for pk, _uid, _pid, _at, answer in rows if answer is not None}
    missing = [(pk, uid, pid, at) for pk, uid, pid, at, answer in rows if answer is None]
    kept |= answers.fetch(missing, deadline=deadline)
    base_url = f"{request.scheme}://{request.get_host()}"
    # An empty answer: Orthanc no longer has the study (the next comparison drops the row).
    page = [answers.as_asked(kept[pk], search.includefields) for pk, *_rest in rows if kept.get(pk)]
    return [answers.with_retrieve_url(item, base_url) for item in page], more


def _page(search: Search) -> slice:
    # One more than asked: whether there are more (for the Warning header).
    return slice(search.offset, search.offset + search.limit + 1)


def _search(
    request: HttpRequest, level: str, studies: QuerySet[IndexedStudy], look_up_new_uids: bool
) -> Search:
    try:
        offset = max(0, int(request.GET.get("offset", 0)))
        limit_given = "limit" in request.GET
        limit = int(request.GET["limit"]) if limit_given else settings.QIDO_MAX_RESULTS
    except ValueError:
        raise BadRequest(_("limit and offset must be integers."), code="invalid") from None
    if offset > OFFSET_MAX:
        raise BadRequest(_("offset is too large."), code="invalid")
    limit = max(0, min(limit, settings.QIDO_MAX_RESULTS))
    fuzzy = request.GET.get("fuzzymatching", "").lower() == "true"
    search = Search(level, offset, limit, limit_given, studies)
    for key, values in request.GET.lists():
        if key in ("limit", "offset", "fuzzymatching"):
            continue
        for value in values:
            if any(ord(char) < 32 for char in key + value):
                raise BadRequest(
                    _("Control characters are not allowed in a search."), code="invalid_query"
                )
            if key == "includefield":
                search.includefields += [part for part in value.split(",") if part]
                continue
            attribute = study_attribute(key)
            if attribute is None:
                if not ORTHANC_KEY.fullmatch(key):
                    raise BadRequest(
                        _("%(key)s is no DICOM attribute.") % {"key": key}, code="invalid_query"
                    )
                search.residual.append((key, value))  # matched by Orthanc, study by study
                continue
            if attribute.kind == "uid" and value.strip("*"):
                search.names_a_study = True
                if look_up_new_uids:
                    _index_new_uids([uid for uid in list_values(value) if is_uid(uid)])
            search.studies = search.studies.filter(study_filter(attribute, value, fuzzy=fuzzy))
    return search


def _index_new_uids(uids: list[str]) -> None:
    known = set(IndexedStudy.objects.filter(study_uid__in=uids).values_list("study_uid", flat=True))
    for uid in [u for u in uids if u not in known][:NEW_UIDS_LOOKED_UP]:
        index_study_uid(uid)


def _by_batches(
    search: Search, ordered: QuerySet[IndexedStudy], headers: dict[str, str], deadline: float
) -> tuple[list[dict], bool]:
    wanted = search.offset + search.limit + 1
    found: list[dict] = []
    for rows in _batches(ordered):
        found += _ask_orthanc(search, rows, headers, deadline, residual=True)
        if len(found) >= wanted:
            break
    return found[search.offset : search.offset + search.limit], len(found) >= wanted


def _batches(ordered: QuerySet[IndexedStudy]) -> Iterator[list[tuple[str, str]]]:
    rows = ordered.values_list("study_uid", "dicom_patient_id")
    start = 0
    while True:
        batch = list(rows[start : start + BATCH])
        if batch:
            yield batch
        if len(batch) < BATCH:
            return
        start += BATCH


def _ask_orthanc(
    search: Search,
    rows: list[tuple[str, str]],
    headers: dict[str, str],
    deadline: float,
    *,
    residual: bool = False,
) -> list[dict]:
    """Orthanc's answer for these studies (StudyInstanceUID, PatientID), in their order; only
    items of those very pairs are kept (a copy under another PatientID is never shown)."""
    if not rows:
        return []
    params = [("StudyInstanceUID", ",".join(uid for uid, _pid in rows))]
    params += [("includefield", f) for f in search.includefields]
    if residual:
        params += search.residual
    if search.level != "studies":
        study_fields = () if search.names_a_study else STUDY_LEVEL_FIELDS
        params += [("includefield", f) for f in (*study_fields, PATIENT_ID)]
    upstream = get_client().proxy(
        "GET", f"/dicom-web/{search.level}", deadline=deadline, params=params, headers=headers
    )
    if upstream.status_code >= 300:
        raise orthanc_refusal(upstream)
    items = answers.qido_json(upstream)
    order = {pair: n for n, pair in enumerate(rows)}
    kept = [item for item in items if _pair(item) in order]
    # Orthanc's order within a study is kept (sorted() is stable).
    return sorted(kept, key=lambda item: order[_pair(item)])


def _pair(item: dict) -> tuple[str, str]:
    return value_of(item, STUDY_UID), value_of(item, PATIENT_ID)


def _asked(search: Search, tag: str) -> bool:
    return bool(set(search.includefields) & {tag, "PatientID", "all"})


def _require_json_answer(request: HttpRequest) -> None:
    """Answers are written here, in DICOM JSON only: XML is refused, not mislabelled."""
    accept = request.headers.get("Accept", "")
    if accept and not any(
        kind in accept for kind in ("application/dicom+json", "application/json", "*/*")
    ):
        raise PortalError(
            _("Searches are answered in application/dicom+json only."),
            code="not_acceptable",
            status=406,
        )
