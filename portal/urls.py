from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from orthanc_bridge import viewer
from orthanc_bridge.dicomweb import dicomweb
from portal import views
from portal.api.routing import api_path

api_urlpatterns: list[URLPattern | URLResolver] = [
    *api_path("schema", SpectacularAPIView.as_view(), "api-schema"),
    *api_path("docs", SpectacularSwaggerView.as_view(url_name="api-schema"), "api-docs"),
    path("", include("accounts.api_urls")),
    path("", include("patients.api_urls")),
    path("", include("orthanc_bridge.api_urls")),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health", views.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("patients/", include("patients.urls")),
    path("audit/", include("audit.urls")),
    path("", include("orthanc_bridge.urls")),
    re_path(r"^dicom-web/(?P<path>.*)$", dicomweb, name="dicomweb"),
    path("viewer/app-config.js", viewer.app_config, name="viewer-config"),
    re_path(r"^viewer/(?P<path>.*)$", viewer.viewer, name="viewer"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
