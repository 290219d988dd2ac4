from patients import apis
from web.api.routing import api_path

urlpatterns = [
    *api_path("patients", apis.PatientListApi.as_view(), "api-patient-list"),
    *api_path("patients/<int:pk>", apis.PatientDetailApi.as_view(), "api-patient-detail"),
]
