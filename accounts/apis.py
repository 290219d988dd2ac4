"""REST API of accounts: token login/refresh/logout, the current user, users and groups."""

from __future__ import annotations

import contextlib
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import selectors, services, tokens
from accounts.access import group_for_management, require_account_manager, user_for_management
from accounts.models import User
from accounts.serializers import (
    GroupCreateInput,
    GroupOutput,
    GroupUpdateInput,
    LoginInput,
    MeOutput,
    PasswordSetInput,
    TokenOutput,
    UserCreateInput,
    UserOutput,
    UserUpdateInput,
)
from web.api.input import validated_input
from web.api.pagination import PortalPagination, paginated
from web.errors import NotAuthenticated, PortalError


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_detail = gettext_lazy("Email or password is incorrect, or the account is disabled.")


class RefreshRejected(NotAuthenticated):
    code = "token_not_valid"
    default_detail = gettext_lazy(
        "The refresh token is expired, revoked or already used: log in again."
    )


class LoginThrottled(PortalError):
    status, code = 429, "login_throttled"


# --- Tokens -----------------------------------------------------------------------------------


def _set_token_cookies(
    request: Request, response: Response, refresh: str, *, expires_at: int | None = None
) -> None:
    """The refresh cookie lives as long as the token: from the login, not from this refresh."""
    lifetime = int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds())  # type: ignore[attr-defined]
    if expires_at is not None:
        lifetime = max(0, expires_at - int(time.time()))
    secure = request.is_secure()
    response.set_cookie(
        settings.JWT_REFRESH_COOKIE,
        refresh,
        max_age=lifetime,
        httponly=True,
        secure=secure,
        samesite="Strict",
        path="/api/auth",
    )
    # Double-submit token: a page script reads it and echoes it in X-CSRF-Token on refresh.
    response.set_cookie(
        settings.JWT_CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=lifetime,
        httponly=False,
        secure=secure,
        samesite="Strict",
        path="/",
    )


def _clear_token_cookies(response: Response) -> None:
    response.delete_cookie(settings.JWT_REFRESH_COOKIE, path="/api/auth", samesite="Strict")
    response.delete_cookie(settings.JWT_CSRF_COOKIE, path="/", samesite="Strict")


def _token_body(access: str, user: User) -> dict[str, Any]:
    return {
        "access": access,
        "token_type": "Bearer",
        "expires_in": int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),  # type: ignore[attr-defined]
        "user": MeOutput(user).data,
    }


class LoginApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginInput,
        responses={
            200: TokenOutput,
            401: OpenApiResponse(description="Wrong email or password, or inactive account."),
            429: OpenApiResponse(
                description="Too many failed attempts for this email and address."
            ),
        },
        summary="Log in with email and password",
        description="Returns an access token; sets the refresh token as an HttpOnly cookie "
        "(path /api/auth) and a readable csrf_token cookie to echo in X-CSRF-Token on refresh.",
    )
    def post(self, request: Request) -> Response:
        data = validated_input(LoginInput, request)
        try:
            user = services.user_authenticate(
                request=request._request,  # django-axes marks lockouts on the Django request
                email=data["email"],
                password=data["password"],
            )
        except services.LoginLockedOut:
            raise LoginThrottled(services.lockout_message()) from None
        if user is None:
            raise InvalidCredentials
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        refresh = RefreshToken.for_user(user)
        response = Response(_token_body(str(refresh.access_token), user))
        _set_token_cookies(request, response, str(refresh))
        return response


class RefreshApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=None,
        responses={
            200: TokenOutput,
            401: OpenApiResponse(description="Refresh token expired, revoked or already used."),
            403: OpenApiResponse(description="Refresh cookie or X-CSRF-Token header missing."),
        },
        summary="Get a new access token from the refresh cookie",
        description="Needs the refresh cookie and the header X-CSRF-Token equal to the "
        "csrf_token cookie. The refresh token is rotated: the old one stops working, and the "
        "new one expires when the login's first one did (JWT_REFRESH_DAYS from the login).",
    )
    def post(self, request: Request) -> Response:
        refresh_cookie = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
        csrf_cookie = request.COOKIES.get(settings.JWT_CSRF_COOKIE, "")
        csrf_header = request.headers.get("X-CSRF-Token", "")
        if not refresh_cookie:
            raise PermissionDenied("No refresh cookie: log in again.", code="refresh_missing")
        if not csrf_cookie or not secrets.compare_digest(csrf_cookie, csrf_header):
            raise PermissionDenied(
                "The X-CSRF-Token header must equal the csrf_token cookie.", code="csrf_failed"
            )
        try:
            rotated = tokens.refresh_rotate(refresh_cookie)
        except tokens.RefreshInvalid as exc:
            # Expired, blacklisted (already rotated, logged out, or revoked by a password reset,
            # a deactivation or a group removal), or the user is inactive.
            raise RefreshRejected from exc
        response = Response(_token_body(rotated.access, rotated.user))
        _set_token_cookies(request, response, rotated.refresh, expires_at=rotated.expires_at)
        return response


class LogoutApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None}, summary="Revoke the refresh token")
    def post(self, request: Request) -> Response:
        refresh_cookie = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
        if refresh_cookie:
            # An expired or already revoked token has nothing left to revoke.
            with contextlib.suppress(TokenError):
                RefreshToken(refresh_cookie).blacklist()  # type: ignore[arg-type]
        response = Response(status=status.HTTP_204_NO_CONTENT)
        _clear_token_cookies(response)
        return response


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeOutput, summary="The current user, their groups and rights")
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)


# --- Users and groups -------------------------------------------------------------------------


class UserListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = PortalPagination

    @extend_schema(responses=UserOutput(many=True), summary="List users")
    def get(self, request: Request) -> Response:
        require_account_manager(user=request.user)
        users = selectors.user_list(search=request.query_params.get("search", ""))
        return paginated(request, self, users, UserOutput)

    @extend_schema(request=UserCreateInput, responses={201: UserOutput}, summary="Create a user")
    def post(self, request: Request) -> Response:
        require_account_manager(user=request.user)
        fields = validated_input(UserCreateInput, request)
        user = services.user_create(actor=request.user, **fields)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserOutput, summary="Get a user")
    def get(self, request: Request, pk: int) -> Response:
        return Response(UserOutput(user_for_management(actor=request.user, pk=pk)).data)

    @extend_schema(request=UserUpdateInput, responses=UserOutput, summary="Change a user")
    def patch(self, request: Request, pk: int) -> Response:
        user = user_for_management(actor=request.user, pk=pk)
        data = validated_input(UserUpdateInput, request, partial=True)
        user = services.user_update(actor=request.user, user=user, **data)
        return Response(UserOutput(user).data)

    @extend_schema(
        responses={204: None, 400: OpenApiResponse(description="Your own account.")},
        summary="Delete a user",
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.user_delete(
            actor=request.user, user=user_for_management(actor=request.user, pk=pk)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserPasswordApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PasswordSetInput,
        responses={204: None},
        summary="Reset a user's password",
        description="Also revokes the user's refresh tokens and ends their access tokens.",
    )
    def post(self, request: Request, pk: int) -> Response:
        user = user_for_management(actor=request.user, pk=pk)
        data = validated_input(PasswordSetInput, request)
        try:
            services.user_set_password(actor=request.user, user=user, password=data["password"])
        except DjangoValidationError as error:  # the password validators speak of the password
            raise ValidationError({"password": error.messages}) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = PortalPagination

    @extend_schema(responses=GroupOutput(many=True), summary="List groups")
    def get(self, request: Request) -> Response:
        require_account_manager(user=request.user)
        groups = selectors.group_list(search=request.query_params.get("search", ""))
        return paginated(request, self, groups, GroupOutput)

    @extend_schema(request=GroupCreateInput, responses={201: GroupOutput}, summary="Create a group")
    def post(self, request: Request) -> Response:
        require_account_manager(user=request.user)
        fields = validated_input(GroupCreateInput, request)
        group = services.group_create(actor=request.user, **fields)
        return Response(GroupOutput(group).data, status=status.HTTP_201_CREATED)


class GroupDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=GroupOutput, summary="Get a group")
    def get(self, request: Request, pk: int) -> Response:
        return Response(GroupOutput(group_for_management(actor=request.user, pk=pk)).data)

    @extend_schema(request=GroupUpdateInput, responses=GroupOutput, summary="Change a group")
    def patch(self, request: Request, pk: int) -> Response:
        group = group_for_management(actor=request.user, pk=pk)
        data = validated_input(GroupUpdateInput, request, partial=True)
        group = services.group_update(actor=request.user, group=group, **data)
        return Response(GroupOutput(group).data)

    @extend_schema(responses={204: None}, summary="Delete a group")
    def delete(self, request: Request, pk: int) -> Response:
        services.group_delete(
            actor=request.user, group=group_for_management(actor=request.user, pk=pk)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
