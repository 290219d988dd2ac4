"""DICOM attribute matching (PS3.4 C.2.2.2, as QIDO-RS asks it) on the study index.

Better than Orthanc where a user would expect it: person names and study descriptions are
matched case- and accent-insensitively (``dupre*`` finds ``DUPRÉ^Hélène``); with
``fuzzymatching=true`` each word of a name matches the start of any of its parts. Identifiers
(PatientID, AccessionNumber, StudyID) match as DICOM says: exactly, or with ``*`` and ``?``.
Dates and times match single values and ranges (``20250101-20250131``, ``-20250131``,
``20250101-``); UIDs and modalities match lists (``a,b`` or ``a\\b``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import CharField, Lookup, Q
from django.utils.translation import gettext as _

from patients.models import search_fold
from web.errors import BadRequest


@dataclass(frozen=True)
class Attribute:
    keyword: str
    tag: str
    field: str
    kind: str  # text, folded, person, date, time, uid, modalities


STUDY_ATTRIBUTES = [
    Attribute("PatientName", "00100010", "patient_name_fold", "person"),
    Attribute("PatientID", "00100020", "dicom_patient_id", "text"),
    Attribute("PatientBirthDate", "00100030", "patient_birth_date", "date"),
    Attribute("PatientSex", "00100040", "patient_sex", "text"),
    Attribute("StudyDate", "00080020", "study_date", "date"),
    Attribute("StudyTime", "00080030", "study_time", "time"),
    Attribute("AccessionNumber", "00080050", "accession_number", "text"),
    Attribute("StudyID", "00200010", "study_id", "text"),
    Attribute("StudyDescription", "00081030", "study_description_fold", "folded"),
    Attribute("ReferringPhysicianName", "00080090", "referring_physician_fold", "person"),
    Attribute("ModalitiesInStudy", "00080061", "modalities", "modalities"),
    Attribute("StudyInstanceUID", "0020000D", "study_uid", "uid"),
]
# Keywords in any case, tags as 0020000D or 0020,000D.
_BY_KEY = {a.keyword.upper(): a for a in STUDY_ATTRIBUTES} | {a.tag: a for a in STUDY_ATTRIBUTES}
VALUE_MAX_LENGTH = 200  # far above any attribute the index holds; a longer one is refused

DATE = re.compile(r"[0-9]{8}")
TIME = re.compile(r"[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:\.[0-9]{1,6})?)?)?")


def study_attribute(key: str) -> Attribute | None:
    """The indexed study attribute a QIDO key names (keyword or tag, in any case), or None."""
    return _BY_KEY.get(key.upper().replace(",", ""))


def list_values(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[\\,]", value) if v.strip()]


def study_filter(attribute: Attribute, value: str, *, fuzzy: bool = False) -> Q:
    """The condition on IndexedStudy for ``attribute=value``; BadRequest for a malformed date
    or a value longer than any the index holds."""
    if value.strip("*") == "":
        return Q()  # universal matching
    if len(value) > VALUE_MAX_LENGTH:
        raise BadRequest(
            _("%(keyword)s: the value is too long.") % {"keyword": attribute.keyword},
            code="invalid_query",
        )
    field, kind = attribute.field, attribute.kind
    if kind == "uid":
        return Q(**{f"{field}__in": list_values(value)})
    if kind == "modalities":
        condition = Q(pk__in=[])
        for modality in list_values(value):
            condition |= Q(**{f"{field}__contains": f" {modality.upper()} "})
        return condition
    if kind in ("date", "time"):
        return _range(attribute, value, DATE if kind == "date" else TIME)
    if kind in ("person", "folded"):
        value = search_fold(value)
        if fuzzy and kind == "person" and not _has_wildcards(value):
            return _word_prefixes(field, value)
    return _wildcard(field, value)


def _has_wildcards(value: str) -> bool:
    return "*" in value or "?" in value


def _wildcard(field: str, pattern: str) -> Q:
    """``*`` and ``?`` as SQL LIKE's ``%`` and ``_`` (no regular expression: no backtracking
    blow-up on any database)."""
    if not _has_wildcards(pattern):
        return Q(**{field: pattern})
    core = pattern.strip("*")
    if not _has_wildcards(core):
        starts, ends = pattern.startswith("*"), pattern.endswith("*")
        lookup = "contains" if starts and ends else "endswith" if starts else "startswith"
        return Q(**{f"{field}__{lookup}": core})
    like = "".join("%" if c == "*" else "_" if c == "?" else _like_escape(c) for c in pattern)
    return Q(**{f"{field}__like": like})


def _like_escape(char: str) -> str:
    return "\\" + char if char in "%_\\" else char


def _word_prefixes(field: str, value: str) -> Q:
    """Every word of the query starts one part of the name (family, given, middle…)."""
    condition = Q()
    for word in re.split(r"[\^ =,]+", value):
        if not word:
            continue
        escaped = "".join(_like_escape(c) for c in word)
        starts_a_part = Q(**{f"{field}__like": f"{escaped}%"})
        for separator in "^ =":
            starts_a_part |= Q(**{f"{field}__like": f"%{separator}{escaped}%"})
        condition &= starts_a_part
    return condition


def _range(attribute: Attribute, value: str, form: re.Pattern[str]) -> Q:
    low, dash, high = value.partition("-")
    for part in (low, high):
        if part and not form.fullmatch(part):
            raise BadRequest(
                _("%(keyword)s: %(value)s is not a valid value or range.")
                % {"keyword": attribute.keyword, "value": value},
                code="invalid_query",
            )
    field = attribute.field
    if not dash:
        if attribute.kind == "time":
            return Q(**{f"{field}__startswith": low})
        return Q(**{field: low})
    condition = ~Q(**{field: ""})
    if low:
        condition &= Q(**{f"{field}__gte": low})
    if high:
        if attribute.kind == "time":
            # A time range's end covers the whole of its last unit: 1230 includes 123059.5.
            high = (high + "999999")[:6] + "." + (high.partition(".")[2] + "999999")[:6]
        condition &= Q(**{f"{field}__lte": high})
    return condition


@CharField.register_lookup
class Like(Lookup):
    """``field__like=pattern``: SQL LIKE with ``\\`` as its escape character, as written."""

    lookup_name = "like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]
