from __future__ import annotations

import pytest

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
