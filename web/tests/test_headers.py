"""web.headers: every dynamic answer carries a Content-Security-Policy and ``Cache-Control:
private, no-store``; the stack's Nginx sends the same policies; ``check --deploy`` passes with the
stack's production settings."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from devtools.dicom_samples import one_instance_study
from patients.tests.factories import PatientFactory
from web.headers import PRIVATE, policy_for

ROOT = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "templates" / "portal.conf.template"
POLICIES = settings.CONTENT_SECURITY_POLICIES
PORTAL, VIEWER, DOCS = (POLICIES[p] for p in ("/", "/viewer/", "/api/docs"))


@pytest.mark.parametrize(
    ("path", "policy"),
    [
        ("/", PORTAL),
        ("/patients/", PORTAL),
        ("/viewer/", VIEWER),
        ("/viewer/viewer", VIEWER),
        ("/api/docs", DOCS),
        ("/api/redoc", DOCS),
        ("/api/schema", PORTAL),
    ],
)
def test_each_path_gets_its_policy(path, policy):
    assert policy_for(path) == policy


def test_portal_pages_allow_no_inline_script():
    directives = dict(d.strip().split(" ", 1) for d in PORTAL.split(";"))

    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_patient_data_answers_are_private_and_not_stored(
    login_client, api_token, admin, admin_group, orthanc
):
    """A page, a list, an API answer, a DICOMweb search (the real Orthanc fills in what the
    index does not keep) and the audit export."""
    patient_a = PatientFactory(family_name="Marchand", groups=[admin_group])
    instance = one_instance_study(patient_id=patient_a.external_id)
    orthanc.store_instance(io.BytesIO(instance.content))
    browser = login_client(admin)
    bearer = f"Bearer {api_token(admin)}"
    answers = {
        "patient page": browser.get(f"/patients/{patient_a.pk}/"),
        "patient list": browser.get("/patients/?q=" + patient_a.family_name),
        "API patient": browser.get(f"/api/patients/{patient_a.pk}", HTTP_AUTHORIZATION=bearer),
        "QIDO": browser.get("/dicom-web/studies", HTTP_ACCEPT="application/dicom+json"),
        "audit export": browser.get("/audit/export.csv"),
    }

    for name, answer in answers.items():
        assert answer.status_code == 200, name
        assert answer["Cache-Control"] == PRIVATE, name
        assert answer["Content-Security-Policy"] == PORTAL, name
    assert b"Marchand" in answers["patient page"].content
    assert patient_a.external_id.encode() in answers["QIDO"].content


@pytest.mark.django_db
def test_error_pages_redirects_and_the_login_page_carry_the_headers(client):
    """Answers made by other middleware too: CommonMiddleware's slash redirect, the 400 of a
    Host outside ALLOWED_HOSTS, a CSRF failure."""
    answers = {
        "login": client.get("/accounts/login/"),
        "404": client.get("/no-such-page/"),
        "slash redirect": client.get("/patients"),
        "bad host": client.get("/accounts/login/", HTTP_HOST="evil.example"),
        "csrf": Client(enforce_csrf_checks=True).post("/accounts/login/", {"email": "a"}),
    }

    assert {name: a.status_code for name, a in answers.items()} == {
        "login": 200,
        "404": 404,
        "slash redirect": 301,
        "bad host": 400,
        "csrf": 403,
    }
    for name, answer in answers.items():
        assert answer["Content-Security-Policy"] == PORTAL, name
        # Django's login view says never_cache's longer form of the same.
        assert {"private", "no-store"} <= set(answer["Cache-Control"].split(", ")), name


def test_static_files_keep_their_own_caching(client):
    """WhiteNoise answers before the middleware: a stylesheet is cacheable, not private."""
    answer = client.get("/static/css/portal.css")

    assert answer.status_code == 200
    assert "no-store" not in answer.get("Cache-Control", "")


def nginx_policies() -> dict[str, str]:
    template = NGINX_TEMPLATE.read_text()
    found = dict(re.findall(r'set \$csp_(\w+) "([^"]+)";', template))
    (docs,) = set(re.findall(r'Content-Security-Policy "([^"]+)"', template))
    return {"portal": found["portal"], "viewer": found["viewer"], "docs": docs}


def test_nginx_sends_the_portals_policies():
    assert nginx_policies() == {"portal": PORTAL, "viewer": VIEWER, "docs": DOCS}


def test_check_deploy_passes_with_the_stacks_production_settings(tmp_path):
    """HSTS, the HTTPS redirect, secure cookies, DEBUG off… as `make stack` (and compose, which
    sets the same TRUST_X_FORWARDED_PROTO) runs the portal. Warnings fail too."""
    from devtools.stack import Stack

    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=Stack(tmp_path).environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr + done.stdout


def test_without_a_tls_proxy_check_deploy_names_what_is_missing(tmp_path):
    """The settings are real switches: a production portal not behind HTTPS is told so."""
    from devtools.stack import Stack

    env = Stack(tmp_path).environment() | {"TRUST_X_FORWARDED_PROTO": "false"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode != 0
    assert "security.W004" in done.stderr and "security.W008" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_chromium_runs_no_injected_inline_script_on_a_portal_page(page):
    """Should escaping ever fail, markup slipped into a page still runs nothing."""
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
            window.refused = [];
            document.addEventListener(
                'securitypolicyviolation', e => refused.push(e.violatedDirective)
            );
            document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.ran = 1">');
            const s = document.createElement('script');
            s.textContent = 'window.ran = 2';
            document.body.append(s);
        }"""
    )
    page.wait_for_function("() => window.refused.length >= 2")

    assert page.evaluate("() => window.ran") is None
    assert set(page.evaluate("() => window.refused")) <= {"script-src-attr", "script-src-elem"}
