"""The one safety check of the ingest pipeline, for every door.

Whole, readable DICOM; its PatientID is the expected patient's external ID (or, for STOW-RS, a
patient the actor may upload to); its StudyInstanceUID is the URL's when the URL names one; none
of its Study, Series or SOP Instance UIDs exists in Orthanc under another PatientID.
"""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from orthanc_bridge.client import get_client
from orthanc_bridge.dicom_checks import DicomIdentity, DicomRejected, inspect_dicom
from orthanc_bridge.ingest.sources import Part
from patients.access import patient_for_upload_by_external_id
from patients.models import Patient, search_fold
from web.dates import dicom_date

# DICOM status codes of a refused instance (PS3.4 C.4.2, used by STOW-RS's FailureReason).
FAILURE_PROCESSING = 0x0110
FAILURE_DUPLICATE_SOP = 0x0111
FAILURE_NOT_AUTHORIZED = 0x0124
FAILURE_STUDY_MISMATCH = 0xA900
FAILURE_CANNOT_UNDERSTAND = 0xC000


class Refused(Exception):
    """An instance the safety check refuses: the reason for people, the DICOM failure code."""

    def __init__(self, reason: str, failure: int, identity: DicomIdentity | None = None) -> None:
        super().__init__(reason)
        self.failure = failure
        self.identity = identity


class UidOwners:
    """Whether an instance's UIDs are free for its PatientID in Orthanc, asked once per study
    and series UID in a request (and once per instance).

    Orthanc keys resources by (PatientID, UIDs): without this check an instance carrying another
    patient's StudyInstanceUID is stored as a second study with that UID, and another patient's
    images end up listed and served inside it.
    """

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self.known: dict[tuple[str, str], set[str]] = {}

    def _owners(self, uid: str, level: str) -> set[str]:
        key = (level, uid)
        if key not in self.known:
            self.known[key] = get_client().resource_patient_ids(uid, level, deadline=self.deadline)
        return self.known[key]

    def check(self, identity: DicomIdentity) -> None:
        """Refused if a UID of the instance exists under another PatientID."""
        levels = (
            (identity.study_uid, "Study", "StudyInstanceUID", FAILURE_NOT_AUTHORIZED),
            (identity.series_uid, "Series", "SeriesInstanceUID", FAILURE_NOT_AUTHORIZED),
            (identity.sop_instance_uid, "Instance", "SOPInstanceUID", FAILURE_DUPLICATE_SOP),
        )
        for uid, level, label, failure in levels:
            if self._owners(uid, level) - {identity.patient_id}:
                # The other PatientID is not named: the uploader may not see that patient.
                reason = _(
                    "Its %(tag)s %(uid)s already belongs to another patient in the image "
                    "server; nothing was stored."
                ) % {"tag": label, "uid": uid}
                raise Refused(reason, failure, identity)
        for uid, level, _label, _failure in levels:
            # Later instances of this request see this one as stored under this PatientID.
            self.known[(level, uid)].add(identity.patient_id)


class SafetyCheck:
    """The safety check of one request: who the instances must belong to, asked once each."""

    def __init__(self, *, actor, patient: Patient | None, study_uid: str, deadline: float):
        self.actor = actor
        self.patient = patient
        self.study_uid = study_uid
        self.owners = UidOwners(deadline)
        self.patients: dict[str, Patient | None] = {}

    def __call__(self, part: Part) -> tuple[DicomIdentity, Patient]:
        """The instance's identity and patient; Refused otherwise."""
        try:
            identity = inspect_dicom(part.file)
        except DicomRejected as exc:
            raise Refused(str(exc), FAILURE_CANNOT_UNDERSTAND, exc.identity) from None
        try:
            patient = self._patient(identity.patient_id)
            if self.study_uid and identity.study_uid != self.study_uid:
                reason = _("The instance is not in the study of the URL.")
                raise Refused(reason, FAILURE_STUDY_MISMATCH)
            self.owners.check(identity)
        except Refused as refused:
            refused.identity = identity
            raise
        return identity, patient

    def _patient(self, patient_id: str) -> Patient:
        if self.patient is not None:
            if patient_id != self.patient.external_id:
                reason = _(
                    "PatientID “%(found)s” in the file is not this patient's external ID "
                    "“%(expected)s”."
                ) % {"found": patient_id, "expected": self.patient.external_id}
                raise Refused(reason, FAILURE_NOT_AUTHORIZED)
            return self.patient
        if patient_id not in self.patients:
            self.patients[patient_id] = patient_for_upload_by_external_id(
                user=self.actor, external_id=patient_id
            )
        patient = self.patients[patient_id]
        if patient is None:
            reason = _("PatientID “%(id)s” is not a patient you can upload to.") % {
                "id": patient_id
            }
            raise Refused(reason, FAILURE_NOT_AUTHORIZED)
        return patient


def record_mismatch(identity: DicomIdentity, patient: Patient) -> str:
    """A warning when the file's PatientName or birth date differ from the patient record (the
    PatientID matched, so the file is stored all the same; someone should look)."""
    differences = []
    family = search_fold(identity.patient_name.split("^")[0]).strip()
    if family and patient.family_name and family != search_fold(patient.family_name).strip():
        differences.append(
            _("the file's patient name “%(file)s” is not the record's “%(record)s”")
            % {
                "file": identity.patient_name.replace("^", " ").strip(),
                "record": patient.display_name,
            }
        )
    born = identity.patient_birth_date
    if born and patient.birth_date and born != patient.birth_date.strftime("%Y%m%d"):
        differences.append(
            _("the file's birth date %(file)s is not the record's %(record)s")
            % {
                "file": dicom_date(born),
                "record": date_format(patient.birth_date, "SHORT_DATE_FORMAT"),
            }
        )
    if not differences:
        return ""
    return _("Stored, but %(differences)s.") % {"differences": "; ".join(differences)}
