from django.apps import AppConfig


class WebConfig(AppConfig):
    """The ground floor: web plumbing every app uses; imports no feature app."""

    name = "web"
    verbose_name = "Web"
