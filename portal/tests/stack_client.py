"""Talking to the stack of the end-to-end tests (portal/tests/conftest.py): HTTPS clients that
trust its certificate, tokens, and who exists in it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests

from devtools.demo import DEMO_PATIENT_EXTERNAL_ID

ADMIN = ("admin@imagine.fr", "Admin123!")
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Radio-Password-42"
PEOPLE = """
import json
from django.contrib.auth.models import Group, Permission
from accounts.models import User
from patients.models import Patient

def group(name, codenames):
    g, _ = Group.objects.get_or_create(name=name)
    g.permissions.set(Permission.objects.filter(content_type__app_label="accounts",
                                                codename__in=codenames))
    return g

def user(email, groups):
    u = User.objects.filter(email=email).first() or User.objects.create_user(email, "@PASSWORD@")
    u.groups.set(groups)
    return u

radio = group("Radiologie", ["view_group_patients", "view_images", "upload_dicom"])
secretariat = group("Secrétariat", ["view_group_patients"])
user("radio@hopital.example", [radio])
user("secretariat@hopital.example", [secretariat])
poc = Patient.objects.get(external_id="@POC@")
poc.groups.add(secretariat)
other, _ = Patient.objects.get_or_create(external_id="RADIO-9", defaults={"family_name": "Petit"})
other.groups.set([radio])
print(json.dumps({"poc": poc.pk, "other": other.pk}))
""".replace("@PASSWORD@", PASSWORD).replace("@POC@", DEMO_PATIENT_EXTERNAL_ID)


class Client(requests.Session):
    """HTTPS to the stack, its self-signed certificate trusted (it names 127.0.0.1), every call
    bounded in time."""

    def __init__(self, stack) -> None:
        super().__init__()
        self.trust_env = False  # REQUESTS_CA_BUNDLE would replace the certificate below
        self.verify = str(stack.directory / "tls" / "cert.pem")

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", 60)
        return super().request(*args, **kwargs)


def session(stack) -> Client:
    return Client(stack)


def token(stack, email: str, password: str) -> dict[str, str]:
    answer = session(stack).post(
        f"{stack.url}/api/auth/login", json={"email": email, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access']}"}


def logged_in(stack, email: str = ADMIN[0], password: str = ADMIN[1]):
    """A browser-like client with a session, logged in through the login page."""
    client = session(stack)
    page = client.get(f"{stack.url}/accounts/login/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    csrf = found.group(1)
    answer = client.post(
        f"{stack.url}/accounts/login/",
        data={"email": email, "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{stack.url}/accounts/login/"},
    )
    assert answer.status_code == 200 and client.cookies.get("sessionid"), answer.text[:300]
    return client


def workers(stack) -> set[int]:
    """The pids of every replica's gunicorn workers: the same set means none died."""
    pids = set()
    for master in stack.web:
        with open(f"/proc/{master.pid}/task/{master.pid}/children") as children:
            pids.update(int(pid) for pid in children.read().split())
    return pids


def web_logs(stack) -> str:
    return "".join(p.read_text() for p in (stack.directory / "logs").glob("web-*.log"))


def wait_until(check, seconds: float = 30.0) -> None:
    """Waits for a server that was just started to be ready (no timing is asserted)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not back in time"
        time.sleep(0.3)


def viewer_page(browser):
    """A fresh page of the test browser (no cookie) for OHIF: its tour already dismissed, and
    the Content-Security-Policy violations it reports gathered in ``page.csp_refused``."""
    browser.clear_cookies()
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.context.add_init_script(
        "try { localStorage.setItem('shownTours', JSON.stringify(['basicViewerTour'])) }"
        " catch (e) {}"
    )
    page.csp_refused = []
    page.on(
        "console",
        lambda m: page.csp_refused.append(m.text) if "Content Security" in m.text else None,
    )
    return page
