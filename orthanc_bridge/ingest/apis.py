"""The API door of the ingest pipeline: ``POST /api/patients/{id}/dicom``."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import Action
from orthanc_bridge.client import OrthancUnavailable
from orthanc_bridge.ingest.pipeline import ingest
from orthanc_bridge.ingest.serializers import UploadInput, UploadOutput
from orthanc_bridge.ingest.sources import Part, expand_zips, spool_body
from patients.access import patient_for_upload

RAW_TYPES = {"application/dicom", "application/zip", "application/octet-stream"}


class PatientDicomUploadApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": UploadInput,
            "application/dicom": OpenApiTypes.BINARY,
            "application/zip": OpenApiTypes.BINARY,
        },
        responses={200: UploadOutput, 503: OpenApiResponse(description="Orthanc down")},
        summary="Upload DICOM files (many, one, or a zip) for this patient",
        description="Each file must be DICOM whose PatientID is the patient's external_id; "
        "others are rejected with a reason and never reach the image server.",
    )
    def post(self, request: Request, pk: int) -> Response:
        patient = patient_for_upload(user=request.user, pk=pk)
        parts = _parts(request)
        try:
            report = ingest(
                actor=request.user,
                parts=expand_zips(parts),
                action=Action.DICOM_UPLOAD,
                patient=patient,
            )
        finally:
            for part in parts:
                part.file.close()
        if report.orthanc_unavailable:
            # What was stored before Orthanc went away stays; the 503 says which files.
            raise OrthancUnavailable("upload interrupted", extra=report.as_dict())
        return Response(report.as_dict())


def _parts(request: Request) -> list[Part]:
    content_type = request.content_type.split(";")[0].strip().lower()
    if content_type in RAW_TYPES:
        # Read from the raw stream in chunks: request.body would hold it all in memory.
        try:
            body = spool_body(
                request._request,  # type: ignore[arg-type]  # a file-like WSGI stream
                max_bytes=settings.UPLOAD_MAX_BODY_BYTES,
            )
        except ValueError as exc:
            raise ValidationError({"body": [str(exc)]}) from exc
        name = "upload.zip" if content_type == "application/zip" else "upload.dcm"
        return [Part(request.headers.get("X-Filename", name), body)]
    if content_type == "multipart/form-data":
        parts = [Part(f.name or "upload", f) for f in request.FILES.getlist("files")]
        if not parts:
            raise ValidationError({"files": ["Send one or more files in the field 'files'."]})
        return parts
    raise ValidationError(
        {
            "content_type": [
                "Use multipart/form-data, application/dicom or application/zip, "
                f"not {content_type or 'nothing'}."
            ]
        }
    )
