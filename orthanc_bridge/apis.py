from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rights
from orthanc_bridge import selectors, services
from orthanc_bridge.client import OrthancUnavailable
from orthanc_bridge.serializers import StudyOutput, UploadInput, UploadOutput
from patients.selectors import patient_get_for

RAW_TYPES = {"application/dicom", "application/zip", "application/octet-stream"}


class ImageServerUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The image server (Orthanc) is unavailable. Try again shortly."
    default_code = "orthanc_unavailable"


def _public_study(study: dict) -> dict:
    return {
        "study_instance_uid": study["study_instance_uid"],
        "study_date": study["study_date"],
        "description": study["description"],
        "modalities": study["modalities"],
        "accession_number": study["accession_number"],
        "referring_physician": study["referring_physician"],
        "series": [
            {
                "series_instance_uid": s["series_instance_uid"],
                "modality": s["modality"],
                "description": s["description"],
                "instance_count": s["instance_count"],
            }
            for s in study["series"]
        ],
        "viewer_url": study["viewer_url"],
    }


class PatientStudiesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: StudyOutput(many=True), 503: OpenApiResponse(description="Orthanc down")},
        summary="The patient's studies in the image server",
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = patient_get_for(user=request.user, pk=pk)
        try:
            studies = selectors.study_list_for(user=request.user, patient=patient)
        except OrthancUnavailable as exc:
            raise ImageServerUnavailable from exc
        return Response([_public_study(s) for s in studies])


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
        patient = patient_get_for(user=request.user, pk=pk)
        if not request.user.has_perm(rights.UPLOAD_DICOM):
            raise PermissionDenied
        content_type = request.content_type.split(";")[0].strip().lower()
        if content_type in RAW_TYPES:
            # Read from the raw stream in chunks: request.body would hold it all in memory.
            from django.conf import settings

            try:
                body = services.copy_stream_to_tempfile(
                    request._request,  # type: ignore[arg-type]  # a file-like WSGI stream
                    max_bytes=settings.UPLOAD_MAX_BODY_BYTES,
                )
            except ValueError as exc:
                raise ValidationError({"body": [str(exc)]}) from exc
            name = "upload.zip" if content_type == "application/zip" else "upload.dcm"
            files = [(request.headers.get("X-Filename", name), body)]
        elif content_type == "multipart/form-data":
            files = [(f.name or "upload", f) for f in request.FILES.getlist("files")]
            if not files:
                raise ValidationError({"files": ["Send one or more files in the field 'files'."]})
        else:
            raise ValidationError(
                {
                    "content_type": [
                        "Use multipart/form-data, application/dicom or application/zip, "
                        f"not {content_type or 'nothing'}."
                    ]
                }
            )
        try:
            report = services.dicom_upload(actor=request.user, patient=patient, files=files)
        finally:
            for _name, fileobj in files:
                fileobj.close()
        if report.orthanc_unavailable:
            # What was stored before Orthanc went away stays; the report says which files.
            answer = {
                "detail": str(ImageServerUnavailable.default_detail),
                "code": ImageServerUnavailable.default_code,
                **report.as_dict(),
            }
            return Response(answer, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(report.as_dict())
