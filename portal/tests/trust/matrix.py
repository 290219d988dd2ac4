"""The persona-by-request matrix, as data: the status each persona gets for each request, the
same through Django and through the stack's Nginx (but for STACK_DIFFERENCES).

Columns are world.PERSONAS: the administrator, a member of patient A's care group, a member of
patient B's, a user without rights, an anonymous client and the holder of the share link to
patient A's study (zip allowed). Rows name patient A's things unless they say B. API and
DICOMweb rows run twice for the users, with their session and with an API token, for the same
statuses; pages run with the session. Writes come first, so what they store is then listed;
the other changes are asked with a body nobody may send (BODIES), so the rights are seen
without anything changing under the personas that come after.
"""

from __future__ import annotations

from portal.tests.trust.world import INSTANCES, World

MULTIPART_DICOM = 'multipart/related; type="application/dicom"'
MULTIPART_OCTETS = 'multipart/related; type="application/octet-stream"'

# fmt: off
MATRIX: dict[str, tuple[int, ...]] = {
    # request                                                       admin own  other none anon link
    # --- writes (patient A's second study) ---
    "POST /dicom-web/studies":                                      (200, 403, 403, 403, 401, 401),
    "POST /api/patients/{patient_a}/dicom":                         (200, 403, 404, 404, 401, 401),
    # --- changes asked with an invalid body (BODIES): the rights are checked before the body,
    # so who may not make the change learns nothing of it; who may gets the 400 and nothing
    # changes, for the personas after them ---
    "PATCH /api/patients/{patient_a}":                              (400, 400, 404, 404, 401, 401),
    "PATCH /api/patients/{patient_b}":                              (400, 404, 400, 404, 401, 401),
    "PATCH /api/users/{user_own}":                                  (400, 403, 403, 403, 401, 401),
    "PATCH /api/groups/{group_own}":                                (400, 403, 403, 403, 401, 401),
    "POST /api/users":                                              (400, 403, 403, 403, 401, 401),
    "POST /api/groups":                                             (400, 403, 403, 403, 401, 401),
    "POST /api/patients":                                           (400, 400, 400, 403, 401, 401),
    "POST /api/shares":                                             (400, 403, 403, 403, 401, 401),
    # --- pages ---
    "GET /":                                                        (200, 200, 200, 200, 302, 302),
    "GET /studies/":                                                (200, 200, 200, 403, 302, 302),
    "GET /studies/unassigned/":                                     (200, 403, 403, 403, 302, 302),
    "GET /patients/":                                               (200, 200, 200, 200, 302, 302),
    "GET /patients/new/":                                           (200, 200, 200, 403, 302, 302),
    "GET /patients/{patient_a}/":                                   (200, 200, 404, 404, 302, 302),
    "GET /patients/{patient_a}/edit/":                              (200, 200, 404, 404, 302, 302),
    "GET /patients/{patient_a}/delete/":                            (405, 405, 405, 405, 302, 302),
    "GET /patients/{patient_a}/studies/":                           (200, 200, 404, 404, 302, 302),
    "GET /patients/{patient_a}/series/{thumb_a}/thumbnail":         (200, 200, 404, 404, 302, 302),
    "GET /patients/{patient_a}/studies/{zip_a}/archive":            (200, 200, 404, 404, 302, 302),
    "GET /patients/{patient_a}/dicom/":                             (405, 405, 405, 405, 302, 302),
    "GET /studies/{study_a}/patient":                               (302, 302, 404, 403, 302, 302),
    "GET /studies/{study_a}/share":                                 (200, 403, 403, 403, 302, 302),
    "GET /patients/{patient_b}/":                                   (200, 404, 200, 404, 302, 302),
    "GET /patients/{patient_b}/studies/":                           (200, 404, 200, 404, 302, 302),
    "GET /patients/{patient_b}/series/{thumb_b}/thumbnail":         (200, 404, 200, 404, 302, 302),
    "GET /patients/{patient_b}/studies/{zip_b}/archive":            (200, 404, 200, 404, 302, 302),
    "GET /studies/{study_b}/patient":                               (302, 404, 302, 403, 302, 302),
    "GET /shares/":                                                 (200, 403, 403, 403, 302, 302),
    "GET /s/{share_id}/study.zip":                                  (404, 404, 404, 404, 404, 200),
    "GET /audit/":                                                  (200, 403, 403, 403, 302, 302),
    "GET /audit/export.csv":                                        (200, 403, 403, 403, 302, 302),
    "GET /audit/export.json":                                       (200, 403, 403, 403, 302, 302),
    "GET /accounts/users/":                                         (200, 403, 403, 403, 302, 302),
    "GET /accounts/users/new/":                                     (200, 403, 403, 403, 302, 302),
    "GET /accounts/users/{user_own}/":                              (200, 403, 403, 403, 302, 302),
    "GET /accounts/users/{user_own}/password/":                     (200, 403, 403, 403, 302, 302),
    "GET /accounts/groups/":                                        (200, 403, 403, 403, 302, 302),
    "GET /accounts/groups/new/":                                    (200, 403, 403, 403, 302, 302),
    "GET /accounts/groups/{group_own}/":                            (200, 403, 403, 403, 302, 302),
    "GET /accounts/groups/{group_own}/delete/":                     (405, 405, 405, 405, 302, 302),
    "GET /accounts/password/":                                      (200, 200, 200, 200, 302, 302),
    "GET /admin/":                                                  (200, 302, 302, 302, 302, 302),
    "GET /admin/patients/patient/{patient_a}/change/":              (403, 302, 302, 302, 302, 302),
    "GET /viewer/viewer?StudyInstanceUIDs={study_a}":               (200, 200, 200, 200, 302, 200),
    "GET /viewer/app-config.js":                                    (200, 200, 200, 200, 200, 200),
    # --- API ---
    "GET /api/me":                                                  (200, 200, 200, 200, 401, 401),
    "GET /api/users":                                               (200, 403, 403, 403, 401, 401),
    "GET /api/users/{user_own}":                                    (200, 403, 403, 403, 401, 401),
    "GET /api/groups":                                              (200, 403, 403, 403, 401, 401),
    "GET /api/groups/{group_own}":                                  (200, 403, 403, 403, 401, 401),
    "GET /api/patients":                                            (200, 200, 200, 200, 401, 401),
    "GET /api/patients/{patient_a}":                                (200, 200, 404, 404, 401, 401),
    "GET /api/patients/{patient_a}/studies":                        (200, 200, 404, 404, 401, 401),
    "GET /api/patients/{patient_b}":                                (200, 404, 200, 404, 401, 401),
    "GET /api/patients/{patient_b}/studies":                        (200, 404, 200, 404, 401, 401),
    "GET /api/studies":                                             (200, 200, 200, 403, 401, 401),
    "GET /api/shares":                                              (200, 403, 403, 403, 401, 401),
    "GET /api/shares/{share_id}":                                   (200, 403, 403, 403, 401, 401),
    # --- DICOMweb: QIDO-RS ---
    "GET /dicom-web/studies":                                       (200, 200, 200, 403, 401, 200),
    "GET /dicom-web/series":                                        (200, 200, 200, 403, 401, 200),
    "GET /dicom-web/instances":                                     (200, 200, 200, 403, 401, 200),
    "GET /dicom-web/studies?PatientID=TRUST-B-9083":                (200, 200, 200, 403, 401, 200),
    "GET {A}/series":                                               (200, 200, 404, 403, 401, 200),
    "GET {A}/instances":                                            (200, 200, 404, 403, 401, 200),
    "GET {A_series}/instances":                                     (200, 200, 404, 403, 401, 200),
    # --- DICOMweb: WADO-RS ---
    "GET {A}":                                                      (200, 200, 404, 403, 401, 200),
    "GET {A_series}":                                               (200, 200, 404, 403, 401, 200),
    "GET {A_instance}":                                             (200, 200, 404, 403, 401, 200),
    "GET {A}/metadata":                                             (200, 200, 404, 403, 401, 200),
    "GET {A_series}/metadata":                                      (200, 200, 404, 403, 401, 200),
    "GET {A_instance}/metadata":                                    (200, 200, 404, 403, 401, 200),
    "GET {A_instance}/frames/1":                                    (200, 200, 404, 403, 401, 200),
    "GET {A_instance}/bulk/7fe00010":                               (200, 200, 404, 403, 401, 200),
    "GET {A_instance}/rendered":                                    (200, 200, 404, 403, 401, 200),
    "GET {A}/thumbnail":                                            (200, 200, 404, 403, 401, 200),
    "GET {A_series}/thumbnail":                                     (200, 200, 404, 403, 401, 200),
    "GET {A_instance}/thumbnail":                                   (200, 200, 404, 403, 401, 200),
    "GET {B}/metadata":                                             (200, 404, 200, 403, 401, 401),
    "GET {B_instance}/frames/1":                                    (200, 404, 200, 403, 401, 401),
    "GET {B_instance}/bulk/7fe00010":                               (200, 404, 200, 403, 401, 401),
    # Asked by Nginx only; from outside the stack's Nginx answers 404 (STACK_DIFFERENCES).
    "GET /internal/dicom-web/decision":                             (204, 204, 403, 403, 403, 204),
}
# fmt: on

# The invalid bodies of the change rows: a value of the wrong JSON type, refused whoever asks.
BODIES = {
    "PATCH /api/patients/{patient_a}": {"birth_date": 20240101},
    "PATCH /api/patients/{patient_b}": {"birth_date": 20240101},
    "PATCH /api/users/{user_own}": {"is_active": "no"},
    "PATCH /api/groups/{group_own}": {"name": 0},
    "POST /api/users": {"email": 0},
    "POST /api/groups": {"name": 0},
    "POST /api/patients": {"external_id": 0},
    "POST /api/shares": {"study_uid": "{study_a}", "expires_in_hours": "forever"},
}
DECISION = "GET /internal/dicom-web/decision"
STACK_DIFFERENCES = {DECISION: (404,) * 6}
# What the decision is asked about (Nginx sends it with the subrequest).
DECISION_HEADERS = {"X-Original-URI": "{A_instance}/frames/1", "X-Original-Method": "GET"}
STOW = "POST /dicom-web/studies"
UPLOAD = "POST /api/patients/{patient_a}/dicom"


def accept_for(path: str) -> str:
    """The Accept header a browser, or a DICOMweb client, sends for this path."""
    if not path.startswith("/dicom-web/"):
        return "text/html,application/json;q=0.9,*/*;q=0.8"
    parts = path.split("?")[0].rstrip("/").split("/")
    if parts[-1] in ("rendered", "thumbnail"):
        return "image/jpeg"
    if "frames" in parts or "bulk" in parts:
        return MULTIPART_OCTETS
    if parts[-1] in ("metadata", "studies", "series", "instances"):
        return "application/dicom+json"
    return MULTIPART_DICOM


def stow_body() -> tuple[bytes, str]:
    boundary = "trust-suite-boundary"
    body = (
        f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        + INSTANCES["A2"].content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def request_kwargs(request: str, path: str, world: World) -> dict:
    """Headers and body of one row's request (``path`` filled with the world's values)."""
    headers = {"Accept": accept_for(path)}
    if request == STOW:
        body, content_type = stow_body()
        return {"headers": {**headers, "Content-Type": content_type}, "data": body}
    if request == UPLOAD:
        return {"files": [("files", ("A2.dcm", INSTANCES["A2"].content, "application/dicom"))]}
    if request in BODIES:
        fields = {k: world.fill(v) if isinstance(v, str) else v for k, v in BODIES[request].items()}
        return {"headers": headers, "json": fields}
    if request == DECISION:
        return {"headers": {**headers, **{k: world.fill(v) for k, v in DECISION_HEADERS.items()}}}
    return {"headers": headers}


def expected(persona_index: int, *, through_stack: bool) -> dict[str, int]:
    table = MATRIX | STACK_DIFFERENCES if through_stack else MATRIX
    return {request: statuses[persona_index] for request, statuses in table.items()}


# Those who hold an API token; the anonymous client and the link holder have none.
USERS_WITH_TOKENS = ("admin", "own_group", "other_group", "no_rights")


def takes_a_token(path: str) -> bool:
    return path.startswith(("/api/", "/dicom-web/"))
