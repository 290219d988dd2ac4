"""The production topology end to end (`make stack`, devtools.stack): Nginx over HTTPS in front of
two gunicorn replicas, Redis, Orthanc on PostgreSQL and the follower, all real, on loopback.

WADO-RS is tested both ways the stack can carry its bytes: streamed by Nginx after the portal's
decision (auth_request, the default) and through the portal's own DICOMweb view
(DICOMWEB_BYTES_VIA=django): the same statuses and bodies.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest
from django.conf import settings

from devtools.demo import DEMO_PATIENT_EXTERNAL_ID
from devtools.local_server import free_port
from orthanc_bridge.tests.test_dicomweb import EXPECTED, endpoints
from orthanc_bridge.tests.test_viewer import bright_fraction, viewport_pixels
from portal.tests.stack_client import ADMIN, PASSWORD, ROOT, session, token, viewer_page

CSP = settings.CONTENT_SECURITY_POLICIES


def gunicorn_log(stack, since: dict | None = None) -> dict[str, str]:
    """Each replica's log (its access log among it), from the ``since`` offsets on."""
    logs = {p.name: p.read_text() for p in (stack.directory / "logs").glob("web-*.log")}
    return {name: text[len((since or {}).get(name, "")) :] for name, text in logs.items()}


def test_http_redirects_to_https_with_the_same_path(stack):
    answer = session(stack).get(
        f"http://127.0.0.1:{stack.http_port}/patients/?page=2", allow_redirects=False
    )

    assert answer.status_code == 301
    assert answer.headers["Location"] == f"https://127.0.0.1:{stack.https_port}/patients/?page=2"


def test_https_speaks_http2(stack):
    context = ssl.create_default_context(cafile=stack.directory / "tls" / "cert.pem")
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", stack.https_port)) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"


def test_logging_in_over_https_and_the_security_headers(stack):
    client = session(stack)
    page = client.get(f"{stack.url}/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    answer = client.post(
        f"{stack.url}/accounts/login/",
        data={"email": ADMIN[0], "password": ADMIN[1], "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{stack.url}/accounts/login/"},
    )

    patients = client.get(f"{stack.url}/patients/")
    assert answer.status_code == 200
    assert DEMO_PATIENT_EXTERNAL_ID in patients.text
    assert all(cookie.secure for cookie in client.cookies)
    for headers in (answer.raw.headers, patients.raw.headers):
        # One copy of each (Nginx's), the portal's own policy (web.headers).
        assert headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]
        assert headers.getlist("X-Content-Type-Options") == ["nosniff"]
        assert headers.getlist("Content-Security-Policy") == [CSP["/"]]
        assert headers.getlist("Cache-Control") == ["private, no-store"]


def test_static_files_and_the_viewers_come_from_nginx(stack):
    client = session(stack)
    bundle = next(stack.ohif_dist.glob("app.bundle.*.js")).name
    css = client.get(f"{stack.url}/static/css/portal.css")
    viewer_code = client.get(f"{stack.url}/viewer/{bundle}")
    viewer_index = client.get(f"{stack.url}/viewer/index.html")

    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]
    assert viewer_code.status_code == 200
    assert "max-age=315360000" in viewer_code.headers["Cache-Control"]  # hashed: kept
    assert viewer_index.status_code == 200
    assert "no-cache" in viewer_index.headers["Cache-Control"]
    assert viewer_index.headers["Content-Security-Policy"] == CSP["/viewer/"]
    assert "no-store" not in css.headers["Cache-Control"]  # no patient in a stylesheet
    log = "".join(gunicorn_log(stack).values())
    assert "GET /static/css/portal.css" not in log
    assert f"GET /viewer/{bundle}" not in log


def test_the_api_docs_need_no_internet(stack):
    client = session(stack)
    docs = client.get(f"{stack.url}/api/docs", headers=token(stack, *ADMIN))
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)

    assert docs.status_code == 200
    assert assets and all(asset.startswith("/static/") for asset in assets), assets
    assert all(client.get(f"{stack.url}{asset}").status_code == 200 for asset in assets)
    # Swagger UI and ReDoc start with an inline script: their policy allows it, on either path.
    for path in ("/api/docs", "/api/docs/", "/api/redoc", "/api/redoc/"):
        answer = client.get(f"{stack.url}{path}")
        assert answer.status_code == 200, path
        assert answer.raw.headers.getlist("Content-Security-Policy") == [CSP["/api/docs"]], path


def test_the_decision_endpoint_is_not_reachable_from_outside(stack):
    answer = session(stack).get(f"{stack.url}/internal/dicom-web/decision")

    assert answer.status_code == 404


def test_qido_through_nginx_lists_the_uploaded_study(stack, uploaded):
    answer = session(stack).get(
        f"{stack.url}/dicom-web/studies?PatientID={DEMO_PATIENT_EXTERNAL_ID}",
        headers=token(stack, *ADMIN),
    )

    assert uploaded[0].study_uid in {s["0020000D"]["Value"][0] for s in answer.json()}


PERSONAS = {
    "admin": ADMIN,
    "member_b": ("radio@hopital.example", PASSWORD),
    "no_images": ("secretariat@hopital.example", PASSWORD),
    "anonymous": None,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_access_matrix_under_a_study_is_the_portals_either_way(
    persona, bytes_via, stack, uploaded
):
    """test_dicomweb's matrix, through Nginx: the other group's user gets the portal's 404."""
    headers = token(stack, *PERSONAS[persona]) if PERSONAS[persona] else {}
    statuses, bodies = {}, set()
    for name, (path, accept) in endpoints(uploaded).items():
        answer = session(stack).get(f"{stack.url}{path}", headers={**headers, "Accept": accept})
        statuses[name] = answer.status_code
        if answer.status_code != 200:
            assert answer.headers["Content-Type"] == "application/json"
            bodies.add(answer.text)
        if persona == "anonymous":
            assert answer.headers["WWW-Authenticate"] == 'Bearer realm="dicom-web"'

    assert statuses == dict.fromkeys(statuses, EXPECTED[persona])
    assert len(bodies) <= 1  # one refusal, said the same way for every resource


def test_wado_bytes_skip_gunicorn_and_only_the_decision_reaches_it(stack, bytes_via, uploaded):
    ct = uploaded[0]
    frames = (
        f"/dicom-web/studies/{ct.study_uid}/series/{ct.series_uid}/instances/{ct.sop_uid}/frames/1"
    )
    headers = token(stack, *ADMIN)
    log_before = gunicorn_log(stack)

    answer = session(stack).get(
        f"{stack.url}{frames}",
        headers={**headers, "Accept": 'multipart/related; type="application/octet-stream"'},
    )

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("multipart/related")
    assert len(answer.content) > 128 * 128 * 2  # one CT frame, 16 bits
    # Pixels of a patient: no browser or proxy keeps them, whoever streamed them.
    assert answer.raw.headers.getlist("Cache-Control") == ["private, no-store"]
    assert answer.raw.headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]
    time.sleep(0.5)  # gunicorn writes its access log after the answer
    log = "".join(gunicorn_log(stack, since=log_before).values())
    assert "GET /internal/dicom-web/decision" in log or bytes_via == "django"
    through_gunicorn = f"GET {frames} " in log
    assert through_gunicorn == (bytes_via == "django")


def raw_get(stack, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """A GET sent exactly as written."""
    context = ssl.create_default_context(cafile=stack.directory / "tls" / "cert.pem")
    connection = http.client.HTTPSConnection("127.0.0.1", stack.https_port, context=context)
    connection.request("GET", path, headers=headers)
    return connection.getresponse()


def test_a_kept_decision_never_lets_an_odd_path_or_another_query_through(stack, uploaded):
    """Once Nginx keeps "allowed" for a study, an encoded or dotted path under it still goes
    to the portal (which decodes the one and refuses the other), and each query gets its own
    decision and answer."""
    ct = uploaded[0]
    headers = token(stack, *ADMIN)
    instance = f"/dicom-web/studies/{ct.study_uid}/series/{ct.series_uid}/instances/{ct.sop_uid}"
    client = session(stack)
    assert client.get(f"{stack.url}{instance}/metadata", headers=headers).status_code == 200
    log_before = gunicorn_log(stack)

    encoded = client.get(f"{stack.url}{instance}%2Fmetadata", headers=headers)
    dotted = raw_get(stack, f"{instance}/./metadata", headers)  # requests would remove "./"
    small = client.get(f"{stack.url}{instance}/rendered?quality=5", headers=headers)
    large = client.get(f"{stack.url}{instance}/rendered?quality=95", headers=headers)

    time.sleep(0.5)  # gunicorn writes its access log after the answer
    log = "".join(gunicorn_log(stack, since=log_before).values())
    assert encoded.status_code == 200 and f"GET {instance}%2Fmetadata " in log
    assert (dotted.status, json.loads(dotted.read())["code"]) == (404, "not_found")
    assert small.status_code == large.status_code == 200
    assert len(small.content) < len(large.content)


def test_bulk_data_uris_point_at_the_public_https_address(stack, bytes_via, uploaded):
    answer = session(stack).get(
        f"{stack.url}/dicom-web/studies/{uploaded[0].study_uid}/metadata",
        headers=token(stack, *ADMIN),
    )

    uris = [
        value["BulkDataURI"]
        for instance in answer.json()
        for value in instance.values()
        if "BulkDataURI" in value
    ]
    assert uris and all(uri.startswith(f"{stack.url}/dicom-web/studies/") for uri in uris)


def test_ohif_draws_the_image_through_nginx(stack, uploaded, browser):
    page = viewer_page(browser)

    page.goto(f"{stack.url}/accounts/login/")
    page.fill("input[name=email]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    page.goto(f"{stack.url}/viewer/viewer?StudyInstanceUIDs={uploaded[0].study_uid}")
    page.wait_for_selector("canvas")
    page.wait_for_function("document.body.innerText.includes('CT demo')")
    page.wait_for_timeout(3000)  # let the first frame be drawn

    assert bright_fraction(viewport_pixels(page)) > 0.2
    assert page.csp_refused == []
    page.close()


def test_the_login_throttle_counts_the_real_client_not_a_forged_address(stack):
    """Nginx appends the address it saw; Django takes that one (TRUSTED_PROXY_COUNT=1)."""
    client = session(stack)
    email = "nobody@hopital.example"
    statuses = [
        client.post(
            f"{stack.url}/api/auth/login",
            json={"email": email, "password": "wrong"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},  # a new address each time
        ).status_code
        for n in range(6)
    ]

    assert statuses == [401] * 4 + [429, 429]


def test_a_replica_sends_plain_http_to_https_but_its_health_check(stack):
    """SECURE_SSL_REDIRECT and HSTS are on behind the stack (TRUST_X_FORWARDED_PROTO): a request
    that reached a replica without Nginx saying HTTPS is sent there; /health stays plain for the
    container's health check."""
    replica = f"http://127.0.0.1:{stack.web_ports[0]}"
    plain = session(stack).get(
        f"{replica}/patients/", headers={"Host": "localhost"}, allow_redirects=False
    )
    health = session(stack).get(f"{replica}/health", headers={"Host": "localhost"})

    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://localhost/patients/"
    assert health.status_code == 200


@pytest.mark.parametrize("reachable", [True, False])
def test_the_web_images_health_check(stack, reachable):
    """deploy/healthcheck.py (the web image's HEALTHCHECK) on a real replica, with a host
    pattern first in ALLOWED_HOSTS as operators write it."""
    port = stack.web_ports[-1] if reachable else free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"0.0.0.0:{port}",
        "ALLOWED_HOSTS": ".example.org,localhost",
    }
    done = subprocess.run(
        [sys.executable, "deploy/healthcheck.py"], cwd=ROOT, env=env, capture_output=True
    )

    assert done.returncode == (0 if reachable else 1), done.stderr


def test_one_web_replica_killed_the_other_keeps_serving(stack):
    victim = stack.web[0]
    os.killpg(victim.pid, signal.SIGKILL)  # gunicorn's master and its workers at once
    victim.wait(timeout=10)
    try:
        answers = [session(stack).get(f"{stack.url}/health") for _ in range(6)]
        logged_in = token(stack, *ADMIN)  # a POST too, after the failure was seen
    finally:  # the stack is shared by the session's other tests: whole again
        stack.web[0] = stack.start_web(0)

    assert [a.status_code for a in answers] == [200] * 6
    assert logged_in["Authorization"].startswith("Bearer ")
