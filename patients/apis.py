from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from patients import access, selectors, services
from patients.serializers import PatientInput, PatientOutput
from web.api.input import validated_input
from web.api.pagination import PortalPagination, paginated

LIST_PARAMETERS = [
    OpenApiParameter(
        "search", OpenApiTypes.STR, description="Words matched in names or external ID."
    ),
    OpenApiParameter(
        "ordering",
        OpenApiTypes.STR,
        description="One of "
        + ", ".join(sorted(selectors.ORDERING_FIELDS))
        + "; prefix - to reverse.",
    ),
]


class PatientListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = PortalPagination

    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=PatientOutput(many=True),
        summary="List patients I can see",
    )
    def get(self, request: Request) -> Response:
        patients = selectors.patient_list_for(
            user=request.user,
            search=request.query_params.get("search", "")[:100],
            ordering=request.query_params.get("ordering", ""),
        )
        return paginated(request, self, patients, PatientOutput)

    @extend_schema(request=PatientInput, responses={201: PatientOutput}, summary="Create a patient")
    def post(self, request: Request) -> Response:
        access.require_patient_add(user=request.user)
        fields = validated_input(PatientInput, request)
        patient = services.patient_create(actor=request.user, **fields)
        return Response(PatientOutput(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PatientOutput, summary="Get a patient")
    def get(self, request: Request, pk: int) -> Response:
        return Response(PatientOutput(access.patient_for_view(user=request.user, pk=pk)).data)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        patient = access.patient_for_change(user=request.user, pk=pk)
        fields = validated_input(PatientInput, request, partial=partial)
        if not partial:
            # PUT replaces the record: fields left out return to their empty value.
            fields = {"given_name": "", "birth_date": None, "sex": "", "notes": "", **fields}
        services.patient_update(actor=request.user, patient=patient, **fields)
        patient = access.patient_for_view(user=request.user, pk=pk)
        return Response(PatientOutput(patient).data)

    @extend_schema(
        request=PatientInput, responses=PatientOutput, summary="Change some fields of a patient"
    )
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)

    @extend_schema(request=PatientInput, responses=PatientOutput, summary="Replace a patient")
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(responses={204: None}, summary="Delete a patient")
    def delete(self, request: Request, pk: int) -> Response:
        patient = access.patient_for_delete(user=request.user, pk=pk)
        services.patient_delete(actor=request.user, patient=patient)
        return Response(status=status.HTTP_204_NO_CONTENT)
