from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orthanc_bridge.studies import selectors
from orthanc_bridge.studies.serializers import StudyOutput
from patients.access import patient_for_images


class PatientStudiesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: StudyOutput(many=True), 503: OpenApiResponse(description="Orthanc down")},
        summary="The patient's studies in the image server",
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = patient_for_images(user=request.user, pk=pk)
        return Response(StudyOutput(selectors.study_list(patient=patient), many=True).data)
