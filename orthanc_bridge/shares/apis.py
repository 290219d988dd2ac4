from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orthanc_bridge.shares import access, selectors, services
from orthanc_bridge.shares.serializers import (
    ShareCreatedOutput,
    ShareInput,
    ShareListQuery,
    ShareOutput,
)
from web.api.input import validated_input
from web.api.pagination import PortalPagination, paginated
from web.errors import NotFound


class ShareListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = PortalPagination

    @extend_schema(
        parameters=[ShareListQuery],
        responses=ShareOutput(many=True),
        summary="List share links (mine; all of them for readers of the audit trail)",
    )
    def get(self, request: Request) -> Response:
        access.require_share_lister(user=request.user)
        # A plain dict: "status=" is then refused, not read as an absent field of an HTML form.
        query = ShareListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        links = selectors.share_list(user=request.user)
        if query.validated_data["status"] == "active":
            links = links.active()
        if query.validated_data.get("study_uid"):
            links = links.filter(study_uid=query.validated_data["study_uid"])
        return paginated(request, self, links, ShareOutput)

    @extend_schema(
        request=ShareInput,
        responses={
            201: ShareCreatedOutput,
            404: OpenApiResponse(description="No such study among those you may see."),
        },
        summary="Share one study by a time-limited link",
        description="`url` is returned once: only a hash of its token is kept. Needs the "
        "'share images' right and the study's images.",
    )
    def post(self, request: Request) -> Response:
        access.require_sharer(user=request.user)  # the right first: its body comes after
        fields = validated_input(ShareInput, request)
        owner = access.study_for_sharing(user=request.user, study_uid=fields["study_uid"])
        share, token = services.share_create(actor=request.user, owner=owner, **fields)
        url = request.build_absolute_uri(reverse("orthanc_bridge:share-open", args=[token]))
        output = ShareCreatedOutput(share, context={"url": url})
        # The one answer that holds the token: kept by no cache, as every answer (web.headers).
        return Response(output.data, status=status.HTTP_201_CREATED)


class ShareDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ShareOutput, summary="Get a share link (never its token)")
    def get(self, request: Request, pk: int) -> Response:
        access.require_share_lister(user=request.user)
        share = selectors.share_list(user=request.user).filter(pk=pk).first()
        if share is None:
            raise NotFound(_("No such share link."))
        return Response(ShareOutput(share).data)

    @extend_schema(
        responses={204: OpenApiResponse(description="Revoked (or already ended)")},
        summary="Revoke a share link",
    )
    def delete(self, request: Request, pk: int) -> Response:
        share = access.share_for_revoking(user=request.user, pk=pk)
        services.share_revoke(actor=request.user, share=share)
        return Response(status=status.HTTP_204_NO_CONTENT)
