from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    """The dashboard every user lands on, and the health check."""

    name = "home"
    verbose_name = _("Home")
