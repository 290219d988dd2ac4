from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import rights, selectors, services
from accounts.forms import (
    EmailLoginForm,
    GroupForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
)
from accounts.models import User
from portal.forms import apply_validation_error
from portal.htmx import redirect_after_post, render_page

manage_users_required = permission_required(rights.MANAGE_USERS, raise_exception=True)


class LoginView(auth_views.LoginView):
    form_class = EmailLoginForm  # type: ignore[assignment]  # same interface, email instead of username
    authentication_form = EmailLoginForm  # type: ignore[assignment]
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: EmailLoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)  # type: ignore[arg-type]
        if form.locked_out:
            response.status_code = 429
        return response


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """django-axes lockout response: JSON under /api/, else the login page with its message."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": _("Too many failed login attempts. Try again later."),
                "code": "login_throttled",
            },
            status=429,
        )
    if original_response is not None and original_response.status_code == 429:
        return original_response
    form = EmailLoginForm(request)
    form.add_error(None, _("Too many failed login attempts. Try again later."))
    return render(request, "accounts/login.html", {"form": form}, status=429)


def _paginate(request: HttpRequest, items: Any, per_page: int = 25) -> Any:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


# --- Users ------------------------------------------------------------------------------------


@login_required
@manage_users_required
def user_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("search", "")
    page = _paginate(request, selectors.user_list(search=search))
    return render_page(
        request, "accounts/user_list.html", "user-table", {"page": page, "search": search}
    )


@login_required
@manage_users_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("User %(email)s created.") % {"email": user.email})
            return redirect_after_post(request, reverse("accounts:user-list"))
    return render_page(request, "accounts/user_form.html", "form", {"form": form, "creating": True})


@login_required
@manage_users_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = UserEditForm.for_user(user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=request.user, user=user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("User %(email)s saved.") % {"email": user.email})
            return redirect_after_post(request, reverse("accounts:user-list"))
    return render_page(
        request, "accounts/user_form.html", "form", {"form": form, "edited_user": user}
    )


@login_required
@manage_users_required
@require_http_methods(["GET", "POST"])
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = PasswordResetForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(
                actor=request.user, user=user, password=form.cleaned_data["password1"]
            )
        except ValidationError as error:
            form.add_error("password1", error)
        else:
            messages.success(request, _("Password of %(email)s changed.") % {"email": user.email})
            return redirect_after_post(request, reverse("accounts:user-edit", args=[user.pk]))
    return render_page(
        request, "accounts/user_password.html", "form", {"form": form, "edited_user": user}
    )


# --- Groups -----------------------------------------------------------------------------------


@login_required
@manage_users_required
def group_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("search", "")
    page = _paginate(request, selectors.group_list(search=search))
    return render_page(
        request, "accounts/group_list.html", "group-table", {"page": page, "search": search}
    )


@login_required
@manage_users_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    form = GroupForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Group %(name)s created.") % {"name": group.name})
            return redirect_after_post(request, reverse("accounts:group-list"))
    return render_page(
        request, "accounts/group_form.html", "form", {"form": form, "creating": True}
    )


@login_required
@manage_users_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(Group, pk=pk)
    form = GroupForm.for_group(group, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(actor=request.user, group=group, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Group %(name)s saved.") % {"name": group.name})
            return redirect_after_post(request, reverse("accounts:group-list"))
    return render_page(
        request,
        "accounts/group_form.html",
        "form",
        {"form": form, "group": group, "members": group.user_set.order_by("email")},
    )
