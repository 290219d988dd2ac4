from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from orthanc_bridge.urls import api_urlpatterns as image_api_urlpatterns
from web.api.routing import api_path
from web.api.schema_view import SchemaView

api_urlpatterns: list[URLPattern | URLResolver] = [
    *api_path("schema", SchemaView.as_view(), "api-schema"),
    *api_path("docs", SpectacularSwaggerView.as_view(url_name="api-schema"), "api-docs"),
    *api_path("redoc", SpectacularRedocView.as_view(url_name="api-schema"), "api-redoc"),
    path("", include("accounts.api_urls")),
    path("", include("patients.api_urls")),
    path("", include(image_api_urlpatterns)),
]

urlpatterns = [
    path("", include("home.urls")),
    path("accounts/", include("accounts.urls")),
    path("patients/", include("patients.urls")),
    path("audit/", include("audit.urls")),
    path("", include("orthanc_bridge.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
]

handler400 = "web.errors.bad_request"
handler403 = "web.errors.permission_denied"
handler404 = "web.errors.page_not_found"
handler500 = "web.errors.server_error"
