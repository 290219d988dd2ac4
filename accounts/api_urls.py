from accounts import apis
from web.api.routing import api_path

urlpatterns = [
    *api_path("auth/login", apis.LoginApi.as_view(), "api-login"),
    *api_path("auth/refresh", apis.RefreshApi.as_view(), "api-refresh"),
    *api_path("auth/logout", apis.LogoutApi.as_view(), "api-logout"),
    *api_path("me", apis.MeApi.as_view(), "api-me"),
    *api_path("users", apis.UserListApi.as_view(), "api-user-list"),
    *api_path("users/<int:pk>", apis.UserDetailApi.as_view(), "api-user-detail"),
    *api_path("users/<int:pk>/password", apis.UserPasswordApi.as_view(), "api-user-password"),
    *api_path("groups", apis.GroupListApi.as_view(), "api-group-list"),
    *api_path("groups/<int:pk>", apis.GroupDetailApi.as_view(), "api-group-detail"),
]
