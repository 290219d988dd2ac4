from orthanc_bridge import apis
from portal.api.routing import api_path

urlpatterns = [
    *api_path("patients/<int:pk>/studies", apis.PatientStudiesApi.as_view(), "api-patient-studies"),
    *api_path(
        "patients/<int:pk>/dicom", apis.PatientDicomUploadApi.as_view(), "api-patient-upload"
    ),
]
