from django.urls import path

from orthanc_bridge import views

app_name = "orthanc_bridge"

urlpatterns = [
    path("patients/<int:pk>/studies/", views.patient_studies, name="patient-studies"),
    path(
        "patients/<int:pk>/series/<str:series_id>/thumbnail",
        views.series_thumbnail,
        name="series-thumbnail",
    ),
    path(
        "patients/<int:pk>/studies/<str:study_id>/archive",
        views.study_archive,
        name="study-archive",
    ),
    path("patients/<int:pk>/dicom/", views.patient_dicom_upload, name="patient-upload"),
    path("studies/unassigned/", views.unassigned_studies, name="unassigned-studies"),
]
