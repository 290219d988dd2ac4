from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrthancBridgeConfig(AppConfig):
    name = "orthanc_bridge"
    verbose_name = _("Orthanc bridge")

    def ready(self) -> None:
        from orthanc_bridge.index import signals  # noqa: F401 - connects the receivers
