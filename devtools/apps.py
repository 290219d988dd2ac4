from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Development tooling: the local Orthanc runner, sample DICOM, demo data, bench commands.

    Installed in development and tests only (settings.INSTALLED_APPS), never in production.
    """

    name = "devtools"
    verbose_name = "Development tools"
