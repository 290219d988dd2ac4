"""Every URL pattern of the portal, classified: public (with the reason anyone may open it), or
closed to an anonymous client. test_url_walk.py walks Django's resolver and fails on a pattern
missing here, and on an entry here that no longer matches a pattern.

Samples are addresses to ask, with the world's real ids and UIDs (world.World.values()), so that
a refusal is a refusal and not the 404 of an id that does not exist. A closed sample must answer
an anonymous client with the login page (302), 401 or 403 for every method it takes (405 for
the others); an open one anything but a server error, and neither may carry a secret or a
patient's data (leaks.py).

Two families are classified by rule rather than one by one (test_url_walk.classify): every route
of the Django admin but its login and logout is behind ``AdminSite.admin_view``, which refuses
before the view looks anything up, so its samples fill every parameter with 1; and each API path
also answers with a trailing slash (web.api.routing.api_path), classified as the path itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    closed: tuple[str, ...] = ()  # must refuse an anonymous client
    public: str = ""  # why anyone may open it; empty for a closed route
    open: tuple[str, ...] = ()  # public samples


def closed(*samples: str) -> Route:
    return Route(closed=samples)


def public(reason: str, *samples: str, closed: tuple[str, ...] = ()) -> Route:
    return Route(closed=closed, public=reason, open=samples)


LINK_LANDING = "/s/{share_token}"
CREDENTIALS = "obtaining, renewing or ending an API token cannot need one"
SCHEMA = (
    "the API's contract, no data: clients and the schemathesis run read it before they log in, "
    "and every operation it documents refuses an anonymous client (this walk)"
)

ROUTES: dict[str, Route] = {
    # --- public ---
    "accounts/login/": public(
        "the login form (throttled per email and address)", "/accounts/login/"
    ),
    "accounts/logout/": public(
        "ending one's session asks for nothing; POST only, answers the login page",
        "/accounts/logout/",
    ),
    "admin/login/": public(
        "the Django admin's login form, throttled as the portal's (django-axes)", "/admin/login/"
    ),
    "admin/logout/": public(
        "ends the admin session; answers the admin's index, which asks for a login",
        "/admin/logout/",
    ),
    "health": public(
        "load balancers' health check: ok/unavailable per dependency, nothing else", "/health"
    ),
    "i18n/setlang/": public(
        "switching the page's language: a cookie, nothing else", "/i18n/setlang/"
    ),
    "s/<str:token>": public(
        "the share link's landing: the 256-bit token is the credential (guessing throttled)",
        LINK_LANDING,
        "/s/" + "x" * 43,
    ),
    "s/<int:pk>/study.zip": public(
        "a link holder's zip, by the link's signed cookie, not a login: 404 without it",
        "/s/{share_id}/study.zip",
    ),
    "viewer/app-config.js": public(
        "OHIF's configuration: this origin's DICOMweb address, no secret; a visitor's links "
        "only for the cookie that names them",
        "/viewer/app-config.js",
    ),
    r"^viewer/(?P<path>.*)$": public(
        "OHIF's own files, the same for everyone; its pages (client routes) ask for a login",
        "/viewer/index.html",
        "/viewer/app-config.js",
        "/viewer/no-such-bundle.js",
        closed=("/viewer/viewer?StudyInstanceUIDs={study_a}", "/viewer/"),
    ),
    "api/auth/login": public(CREDENTIALS, "/api/auth/login"),
    "api/auth/refresh": public(CREDENTIALS, "/api/auth/refresh"),
    "api/auth/logout": public(CREDENTIALS, "/api/auth/logout"),
    "api/schema": public(SCHEMA, "/api/schema"),
    "api/docs": public(SCHEMA, "/api/docs"),
    "api/redoc": public(SCHEMA, "/api/redoc"),
    # --- pages ---
    "": closed("/"),
    "accounts/password/": closed("/accounts/password/"),
    "accounts/password/done/": closed("/accounts/password/done/"),
    "accounts/users/": closed("/accounts/users/"),
    "accounts/users/new/": closed("/accounts/users/new/"),
    "accounts/users/<int:pk>/": closed("/accounts/users/{user_own}/"),
    "accounts/users/<int:pk>/password/": closed("/accounts/users/{user_own}/password/"),
    "accounts/groups/": closed("/accounts/groups/"),
    "accounts/groups/new/": closed("/accounts/groups/new/"),
    "accounts/groups/<int:pk>/": closed("/accounts/groups/{group_own}/"),
    "accounts/groups/<int:pk>/delete/": closed("/accounts/groups/{group_own}/delete/"),
    "patients/": closed("/patients/"),
    "patients/new/": closed("/patients/new/"),
    "patients/<int:pk>/": closed("/patients/{patient_a}/"),
    "patients/<int:pk>/edit/": closed("/patients/{patient_a}/edit/"),
    "patients/<int:pk>/delete/": closed("/patients/{patient_a}/delete/"),
    "patients/<int:pk>/studies/": closed("/patients/{patient_a}/studies/"),
    "patients/<int:pk>/series/<str:series_id>/thumbnail": closed(
        "/patients/{patient_a}/series/{thumb_a}/thumbnail"
    ),
    "patients/<int:pk>/studies/<str:study_id>/archive": closed(
        "/patients/{patient_a}/studies/{zip_a}/archive"
    ),
    "patients/<int:pk>/dicom/": closed("/patients/{patient_a}/dicom/"),
    "audit/": closed("/audit/"),
    "audit/export.csv": closed("/audit/export.csv"),
    "audit/export.json": closed("/audit/export.json"),
    "studies/": closed("/studies/"),
    "studies/unassigned/": closed("/studies/unassigned/"),
    r"^studies/(?P<study_uid>[0-9]+(?:\.[0-9]+)*)/patient$": closed("/studies/{study_a}/patient"),
    r"^studies/(?P<study_uid>[0-9]+(?:\.[0-9]+)*)/share$": closed("/studies/{study_a}/share"),
    "shares/": closed("/shares/"),
    "shares/<int:pk>/revoke": closed("/shares/{share_id}/revoke"),
    # --- images ---
    r"^dicom-web/(?P<path>.*)$": closed(
        "/dicom-web/studies",
        "/dicom-web/series",
        "/dicom-web/instances",
        "{A}",
        "{A}/metadata",
        "{A_series}/instances",
        "{A_instance}/frames/1",
        "{A_instance}/bulk/7fe00010",
        "{A_instance}/rendered",
        "{A}/thumbnail",
        "{B}/metadata",
    ),
    # Nginx's auth_request (world's study A in X-Original-URI); Nginx answers 404 from outside.
    "internal/dicom-web/decision": closed("/internal/dicom-web/decision"),
    # --- API ---
    "api/me": closed("/api/me"),
    "api/users": closed("/api/users"),
    "api/users/<int:pk>": closed("/api/users/{user_own}"),
    "api/users/<int:pk>/password": closed("/api/users/{user_own}/password"),
    "api/groups": closed("/api/groups"),
    "api/groups/<int:pk>": closed("/api/groups/{group_own}"),
    "api/patients": closed("/api/patients"),
    "api/patients/<int:pk>": closed("/api/patients/{patient_a}"),
    "api/patients/<int:pk>/studies": closed("/api/patients/{patient_a}/studies"),
    "api/patients/<int:pk>/dicom": closed("/api/patients/{patient_a}/dicom"),
    "api/studies": closed("/api/studies"),
    "api/shares": closed("/api/shares"),
    "api/shares/<int:pk>": closed("/api/shares/{share_id}"),
}
