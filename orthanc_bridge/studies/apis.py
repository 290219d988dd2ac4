from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orthanc_bridge.access import require_image_viewer, visible_studies
from orthanc_bridge.studies import selectors
from orthanc_bridge.studies.forms import WorklistFilterForm
from orthanc_bridge.studies.serializers import StudyOutput, WorklistRowOutput
from patients.access import patient_for_images
from web.api.pagination import CappedPagination, paginated


class PatientStudiesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: StudyOutput(many=True), 503: OpenApiResponse(description="Orthanc down")},
        summary="The patient's studies in the image server",
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = patient_for_images(user=request.user, pk=pk)
        return Response(StudyOutput(selectors.study_list(patient=patient), many=True).data)


WORKLIST_PARAMETERS = [
    OpenApiParameter("q", str, description="Patient name words or IPP prefix"),
    OpenApiParameter(
        "period", str, enum=["today", "yesterday", "7d", "30d", "custom"], description="Quick date"
    ),
    OpenApiParameter("date_from", str, description="YYYY-MM-DD (with period=custom or alone)"),
    OpenApiParameter("date_to", str, description="YYYY-MM-DD"),
    OpenApiParameter("modality", str, description="CT, MR, US…"),
    OpenApiParameter("description", str, description="Words of the study description"),
    OpenApiParameter("accession", str, description="Accession number prefix"),
    OpenApiParameter("referring", str, description="Words of the referring physician's name"),
]


class StudyListApi(APIView):
    """The worklist: the exams of the patients the user sees, newest first."""

    permission_classes = [IsAuthenticated]
    pagination_class = CappedPagination

    @extend_schema(
        parameters=WORKLIST_PARAMETERS,
        responses={
            200: WorklistRowOutput(many=True),
            400: OpenApiResponse(description="A filter is invalid (a date, a period…)."),
        },
        summary="Search the exams I can see (the worklist)",
        description="Newest first. `count` stops at 10001 (more than 10000: narrow the search).",
    )
    def get(self, request: Request) -> Response:
        require_image_viewer(user=request.user)
        form = WorklistFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        studies = selectors.worklist(studies=visible_studies(user=request.user), **form.filters())
        return paginated(request, self, studies, WorklistRowOutput)
