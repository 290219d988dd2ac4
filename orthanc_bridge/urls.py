"""Every route of the image side: patient pages' studies and uploads, the unassigned inbox,
share links (/s/<token> for visitors, /shares/ for staff), DICOMweb (/dicom-web/), the OHIF
viewer (/viewer/) and the image API (``api_urlpatterns``, put under /api/ by the root URLconf)."""

from django.urls import path, re_path

from orthanc_bridge.dicomweb.gate import wado_decision
from orthanc_bridge.dicomweb.proxy import dicomweb
from orthanc_bridge.ingest import apis as ingest_apis
from orthanc_bridge.ingest import views as ingest_views
from orthanc_bridge.shares import apis as shares_apis
from orthanc_bridge.shares import views as shares_views
from orthanc_bridge.studies import apis as studies_apis
from orthanc_bridge.studies import views as studies_views
from orthanc_bridge.viewer import views as viewer_views
from web.api.routing import api_path

app_name = "orthanc_bridge"

urlpatterns = [
    path("patients/<int:pk>/studies/", studies_views.patient_studies, name="patient-studies"),
    path(
        "patients/<int:pk>/series/<str:series_id>/thumbnail",
        studies_views.series_thumbnail,
        name="series-thumbnail",
    ),
    path(
        "patients/<int:pk>/studies/<str:study_id>/archive",
        studies_views.study_archive,
        name="study-archive",
    ),
    path("patients/<int:pk>/dicom/", ingest_views.patient_dicom_upload, name="patient-upload"),
    path("studies/", studies_views.worklist, name="worklist"),
    path("studies/unassigned/", studies_views.unassigned_studies, name="unassigned-studies"),
    re_path(
        r"^studies/(?P<study_uid>[0-9]+(?:\.[0-9]+)*)/patient$",
        studies_views.study_patient,
        name="study-patient",
    ),
    re_path(
        r"^studies/(?P<study_uid>[0-9]+(?:\.[0-9]+)*)/share$",
        shares_views.share_new,
        name="share-new",
    ),
    path("shares/", shares_views.share_list_page, name="share-list"),
    path("shares/<int:pk>/revoke", shares_views.share_revoke_post, name="share-revoke"),
    # For visitors without an account: the link, and its study's zip (by the link's cookie).
    path("s/<str:token>", shares_views.share_open, name="share-open"),
    path("s/<int:pk>/study.zip", shares_views.shared_study_archive, name="shared-archive"),
    re_path(r"^dicom-web/(?P<path>.*)$", dicomweb, name="dicomweb"),
    # Asked by Nginx only (auth_request); Nginx refuses /internal/ from outside.
    path("internal/dicom-web/decision", wado_decision, name="dicomweb-decision"),
    path("viewer/app-config.js", viewer_views.app_config, name="viewer-config"),
    re_path(r"^viewer/(?P<path>.*)$", viewer_views.viewer, name="viewer"),
]

api_urlpatterns = [
    *api_path("shares", shares_apis.ShareListApi.as_view(), "api-shares"),
    *api_path("shares/<int:pk>", shares_apis.ShareDetailApi.as_view(), "api-share"),
    *api_path("studies", studies_apis.StudyListApi.as_view(), "api-studies"),
    *api_path(
        "patients/<int:pk>/studies",
        studies_apis.PatientStudiesApi.as_view(),
        "api-patient-studies",
    ),
    *api_path(
        "patients/<int:pk>/dicom", ingest_apis.PatientDicomUploadApi.as_view(), "api-patient-upload"
    ),
]
