"""Form plumbing shared by every page that edits something."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from web.htmx import redirect_after_post, render_page


def apply_validation_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to its field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def form_page(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    save: Callable[[dict[str, Any]], Any],
    success: Callable[[Any], tuple[str, str]],
    template: str,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The one flow of an edit page: on a valid POST, ``save(cleaned_data)`` (a service);
    its ValidationError goes back on the form, else ``success(saved)`` gives the message and
    the URL to go to. Otherwise the form (or, for HTMX, its ``form`` partial) is shown."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            message, url = success(saved)
            messages.success(request, message)
            return redirect_after_post(request, url)
    return render_page(request, template, "form", {"form": form, **(context or {})})
