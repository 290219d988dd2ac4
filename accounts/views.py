from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.access import group_for_management, require_account_manager, user_for_management
from accounts.forms import (
    EmailLoginForm,
    GroupForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
)
from accounts.models import User
from accounts.rights import RIGHT_DEFINITIONS
from accounts.services import lockout_message
from web.errors import error_response, wants_json
from web.forms import form_page
from web.htmx import redirect_after_post, render_page
from web.lists import list_page


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


class PasswordChangeView(auth_views.PasswordChangeView):
    """A user's own password change, audited and revoking their tokens as an admin reset is."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password-change-done")

    def form_valid(self, form: Any) -> HttpResponse:
        services.user_set_password(
            actor=self.request.user, user=form.user, password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """django-axes lockout response: JSON for API clients, else the login page with its message."""
    if wants_json(request):
        return error_response(request, 429, "login_throttled", lockout_message())
    if original_response is not None and original_response.status_code == 429:
        return original_response
    form = EmailLoginForm(request)
    form.add_error(None, lockout_message())
    return render(request, "accounts/login.html", {"form": form}, status=429)


# --- Users ------------------------------------------------------------------------------------


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    require_account_manager(user=request.user)
    search = request.GET.get("search", "")
    page = list_page(request, selectors.user_list(search=search))
    context = {"page": page, "search": search}
    return render_page(request, "accounts/user_list.html", "user-table", context)


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    require_account_manager(user=request.user)
    return form_page(
        request,
        UserCreateForm(data=request.POST or None),
        save=lambda data: services.user_create(actor=request.user, **data),
        success=lambda user: (
            _("User %(email)s created.") % {"email": user.email},
            reverse("accounts:user-list"),
        ),
        template="accounts/user_form.html",
        context={"creating": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_for_management(actor=request.user, pk=pk)
    return form_page(
        request,
        UserEditForm.for_user(user, data=request.POST or None),
        save=lambda data: services.user_update(actor=request.user, user=user, **data),
        success=lambda saved: (
            _("User %(email)s saved.") % {"email": saved.email},
            reverse("accounts:user-list"),
        ),
        template="accounts/user_form.html",
        context={"edited_user": user},
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_for_management(actor=request.user, pk=pk)

    def save(data: dict[str, Any]) -> User:
        try:
            return services.user_set_password(
                actor=request.user, user=user, password=data["password1"]
            )
        except ValidationError as error:  # the password validators speak of the new password
            raise ValidationError({"password1": error.messages}) from error

    return form_page(
        request,
        PasswordResetForm(data=request.POST or None),
        save=save,
        success=lambda saved: (
            _("Password of %(email)s changed.") % {"email": saved.email},
            reverse("accounts:user-edit", args=[saved.pk]),
        ),
        template="accounts/user_password.html",
        context={"edited_user": user},
    )


# --- Groups -----------------------------------------------------------------------------------


@login_required
def group_list(request: HttpRequest) -> HttpResponse:
    require_account_manager(user=request.user)
    search = request.GET.get("search", "")
    page = list_page(request, selectors.group_list(search=search))
    labels = dict(RIGHT_DEFINITIONS)
    order = {codename: n for n, (codename, _label) in enumerate(RIGHT_DEFINITIONS)}
    for group in page:
        rights = sorted(group.permissions.all(), key=lambda p: order.get(p.codename, len(order)))
        group.right_labels = [labels.get(p.codename, p.name) for p in rights]
    context = {"page": page, "search": search}
    return render_page(request, "accounts/group_list.html", "group-table", context)


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    require_account_manager(user=request.user)
    return form_page(
        request,
        GroupForm(data=request.POST or None),
        save=lambda data: services.group_create(actor=request.user, **data),
        success=lambda group: (
            _("Group %(name)s created.") % {"name": group.name},
            reverse("accounts:group-list"),
        ),
        template="accounts/group_form.html",
        context={"creating": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = group_for_management(actor=request.user, pk=pk)
    return form_page(
        request,
        GroupForm.for_group(group, data=request.POST or None),
        save=lambda data: services.group_update(actor=request.user, group=group, **data),
        success=lambda saved: (
            _("Group %(name)s saved.") % {"name": saved.name},
            reverse("accounts:group-list"),
        ),
        template="accounts/group_form.html",
        context={
            "group": group,
            "members": group.user_set.order_by("email"),
            "patients_left_alone": services.patients_only_in(group),
        },
    )


@login_required
@require_POST
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = group_for_management(actor=request.user, pk=pk)
    if request.POST.get("confirm") != "yes":
        # The box is required in the page; this guards a form sent without it (no JavaScript).
        messages.error(request, _("Tick the confirmation box to delete the group."))
        return redirect_after_post(request, reverse("accounts:group-edit", args=[group.pk]))
    name = group.name
    services.group_delete(actor=request.user, group=group)
    messages.success(request, _("Group %(name)s deleted.") % {"name": name})
    return redirect_after_post(request, reverse("accounts:group-list"))
