from __future__ import annotations

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/does-not-exist")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_an_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]


def test_a_wrong_method_is_a_json_405(client, api_token, member_a):
    response = client.put("/api/me", HTTP_AUTHORIZATION=f"Bearer {api_token(member_a)}")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_malformed_json_is_a_json_400(client):
    response = client.post("/api/auth/login", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_the_openapi_schema_documents_the_api(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/me",
        "/api/users",
        "/api/users/{id}",
        "/api/groups",
        "/api/groups/{id}",
    ]:
        assert path in paths
    assert not any(p.endswith("/") for p in paths)


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_the_interactive_docs_need_no_internet(client, page):
    import re

    response = client.get(page)
    body = response.content.decode()
    scripts = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', body)

    assert response.status_code == 200
    assert scripts
    # Every script and stylesheet comes from the portal itself (no CDN), and is served.
    for url in scripts:
        assert url.startswith("/static/"), url
        assert client.get(url).status_code == 200, url


def test_a_host_outside_allowed_hosts_is_a_400_page_not_a_crash(client):
    """Refused before any middleware set request.user; the page still renders."""
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert b"<html" in response.content


# --- What the schema promises about input (web.api.input, web.api.pagination) ------------------


def test_a_value_of_another_json_type_is_refused_not_converted(client, api_token, manager):
    """DRF alone would store the name "0", and read an object's keys as the list of groups."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token(manager)}", "HTTP_ACCEPT_LANGUAGE": "en"}
    bodies = {
        "name": {"email": "a@hopital.example", "name": 0},
        "is_active": {"email": "b@hopital.example", "is_active": "yes"},
        "groups": {"email": "c@hopital.example", "groups": {"1": "x"}},
    }

    answers = {
        field: client.post("/api/users", body, "application/json", **headers)
        for field, body in bodies.items()
    }

    for field, answer in answers.items():
        assert (answer.status_code, list(answer.json()["errors"])) == (400, [field])
    assert answers["name"].json()["errors"]["name"] == ["Not a valid string."]
    assert not User.objects.exclude(pk=manager.pk).exists()


def test_the_api_reads_json_only(client, api_token, manager):
    """A form from another site cannot post to it; an empty form field never means "absent"."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token(manager)}"}

    form = client.post("/api/groups", {"name": "Neurologie"}, **headers)

    assert form.status_code == 415
    assert form.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("page_size", ["abc", "0", "-1", "2.5", ""])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_refused(
    client, api_token, manager, page_size
):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token(manager)}"}

    answer = client.get("/api/users", {"page_size": page_size}, **headers)

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["page_size"]


def test_a_page_size_above_100_counts_as_100(client, api_token, manager):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token(manager)}"}

    answer = client.get("/api/users", {"page_size": "1000"}, **headers)

    assert answer.status_code == 200
    assert answer.json()["count"] == 1


def test_every_error_an_operation_documents_has_the_error_shape(client):
    schema = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = {
        f"{method.upper()} {path}": operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }

    for name, operation in operations.items():
        errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
        for code, response in errors.items():
            body = response["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ErrorOutput"}, (name, code)
        if name not in {"POST /api/auth/login", "POST /api/auth/refresh", "POST /api/auth/logout"}:
            assert {"401", "403"} <= set(errors), name
        if "{id}" in name:
            assert "404" in errors, name
    assert "400" in operations["POST /api/patients"]["responses"]
    listed = operations["GET /api/patients"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"] == {"$ref": "#/components/schemas/PaginatedPatientOutputList"}
    assert {"400", "404"} <= set(operations["GET /api/patients"]["responses"])
    assert "content" not in operations["DELETE /api/patients/{id}"]["responses"]["204"]
