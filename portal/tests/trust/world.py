"""The world the trust suite walks: two patients of two care groups, one study each with pixel
data of its own, a share link to patient A's study, and the personas — built the same way in the
test database (Django's live server) and in `make stack`'s, and talked to over HTTP alike.

Patient A's and patient B's names, PatientIDs, study UIDs and pixel bytes are the markers the
leak scan looks for (leaks.py): distinctive enough that finding one in an answer means that
answer carries that patient's data.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import Any

import requests

from devtools.dicom_samples import SampleInstance, one_instance_study

PASSWORD = "Trust-Suite-Password-42"
# The personas of the matrix, in its columns' order: what the patient-A side of the world is to
# each of them. "own_group" is a member of patient A's care group, "other_group" of patient B's.
PERSONAS = ("admin", "own_group", "other_group", "no_rights", "anonymous", "link_holder")
USERS = {
    "admin": "trust-admin@hopital.example",
    "own_group": "trust-a@hopital.example",
    "other_group": "trust-b@hopital.example",
    "no_rights": "trust-none@hopital.example",
}
PATIENTS = {  # record: external id, family name, given name
    "A": ("TRUST-A-4417", "Quennevilleaux", "Ysolde"),
    "B": ("TRUST-B-9083", "Zwanenburgh", "Ottokar"),
}
CT_PIXEL_BYTES = 128 * 128 * 2  # CT_small.dcm's frame: 128 by 128, 16 bits


def _pixels(seed: int) -> bytes:
    return random.Random(seed).randbytes(CT_PIXEL_BYTES)  # noqa: S311 - a marker, not a secret


def _instance(side: str, seed: int, description: str) -> SampleInstance:
    external_id, family, given = PATIENTS[side[0]]
    return one_instance_study(
        patient_id=external_id,
        patient_name=f"{family}^{given}",
        study_description=description,
        PixelData=_pixels(seed),
    )


# One instance per study, made once per test session: A's shared study, B's study, and a second
# study of A that the matrix's writes (upload, STOW) send.
INSTANCES = {
    "A": _instance("A", 4417, "Trust A"),
    "B": _instance("B", 9083, "Trust B"),
    "A2": _instance("A", 2417, "Trust A second"),
}


def markers(side: str) -> dict[str, bytes]:
    """What betrays patient ``side``'s data in an answer, named for the failure message."""
    instance = INSTANCES[side]
    external_id, family, _given = PATIENTS[side[0]]
    middle = CT_PIXEL_BYTES // 2
    found = {"study UID": instance.study_uid.encode()}
    if side != "A2":  # A2 is patient A's: its name and PatientID are A's markers
        found |= {
            "patient name": family.encode(),
            "PatientID": external_id.encode(),
            "pixel data": _pixels(4417 if side == "A" else 9083)[middle : middle + 24],
        }
    return found


def orthanc_id(*uids: str) -> str:
    """Orthanc's identifier of a patient, study, series or instance: SHA-1 of the PatientID and
    the UIDs down to that level, joined by '|', written in five groups of eight."""
    digest = hashlib.sha1("|".join(uids).encode()).hexdigest()  # noqa: S324 - Orthanc's scheme
    return "-".join(digest[i : i + 8] for i in range(0, 40, 8))


def people_seed() -> dict[str, int]:
    """The personas and both patients, with the ORM; idempotent. Run in the test's database, and
    in the stack's by ``manage.py shell`` (so both worlds hold the same people)."""
    from django.contrib.auth.models import Group, Permission

    from accounts import rights
    from accounts.models import User
    from patients.models import Patient

    def group(name: str, granted: list[str]) -> Group:
        made, _ = Group.objects.get_or_create(name=name)
        codenames = [right.split(".")[1] for right in granted]
        made.permissions.set(
            Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        )
        return made

    def user(persona: str, groups: list[Group], **fields: Any) -> User:
        made = User.objects.filter(email=USERS[persona]).first()
        if made is None:
            made = User.objects.create_user(USERS[persona], PASSWORD, **fields)
        made.groups.set(groups)
        return made

    def patient(side: str, care_group: Group) -> Patient:
        external_id, family, given = PATIENTS[side]
        made, _ = Patient.objects.get_or_create(
            external_id=external_id, defaults={"family_name": family, "given_name": given}
        )
        made.groups.set([care_group])
        return made

    # A care team's rights, as conftest.CARE_TEAM_RIGHTS; the administrator holds every right
    # through a group and is staff, not a superuser.
    care = [
        rights.VIEW_GROUP_PATIENTS, rights.ADD_PATIENT, rights.CHANGE_PATIENT, rights.VIEW_IMAGES,
    ]  # fmt: skip
    team_a, team_b = group("Trust A", care), group("Trust B", care)
    user("admin", [group("Trust administrators", rights.ALL_RIGHTS)], is_staff=True)
    own = user("own_group", [team_a])
    user("other_group", [team_b])
    user("no_rights", [])
    return {
        "patient_a": patient("A", team_a).pk,
        "patient_b": patient("B", team_b).pk,
        "user_own": own.pk,
        "group_own": team_a.pk,
    }


SEED_SCRIPT = (
    "import json; from portal.tests.trust.world import people_seed; "
    "print(json.dumps(people_seed()))"
)


@dataclass
class Target:
    """A portal to talk to over HTTP: Django's live server, or the stack's Nginx over HTTPS."""

    name: str
    url: str
    verify: str | bool = True
    # What must never leave the server (leaks.py): the SECRET_KEY, Orthanc's password...
    secrets: dict[str, str] = field(default_factory=dict)
    orthanc_user: str = "preview"

    def session(self) -> requests.Session:
        return HttpClient(self.verify)


class HttpClient(requests.Session):
    """A client of the target: no proxy or CA bundle from the environment, every call bounded."""

    def __init__(self, verify: str | bool) -> None:
        super().__init__()
        self.trust_env = False
        self.verify = verify

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 60)
        return super().request(*args, **kwargs)


@dataclass
class World:
    """One portal's world: its people's and patients' ids (people_seed), the share link, and
    the addresses the matrix and the walk fill in (``values``)."""

    target: Target
    ids: dict[str, int]
    share_id: int = 0
    share_token: str = ""

    def values(self) -> dict[str, Any]:
        a, b = INSTANCES["A"], INSTANCES["B"]
        study_a, study_b = f"/dicom-web/studies/{a.study_uid}", f"/dicom-web/studies/{b.study_uid}"
        return {
            **self.ids,
            "share_id": self.share_id,
            "share_token": self.share_token,
            "study_a": a.study_uid,
            "series_a": a.series_uid,
            "sop_a": a.sop_uid,
            "study_b": b.study_uid,
            "series_b": b.series_uid,
            "sop_b": b.sop_uid,
            # DICOMweb addresses of each study, its series and its instance
            "A": study_a,
            "A_series": f"{study_a}/series/{a.series_uid}",
            "A_instance": f"{study_a}/series/{a.series_uid}/instances/{a.sop_uid}",
            "B": study_b,
            "B_instance": f"{study_b}/series/{b.series_uid}/instances/{b.sop_uid}",
            # Orthanc's ids in the patient pages' thumbnail and zip addresses
            "zip_a": orthanc_id(PATIENTS["A"][0], a.study_uid),
            "thumb_a": orthanc_id(PATIENTS["A"][0], a.study_uid, a.series_uid),
            "zip_b": orthanc_id(PATIENTS["B"][0], b.study_uid),
            "thumb_b": orthanc_id(PATIENTS["B"][0], b.study_uid, b.series_uid),
        }

    def fill(self, template: str) -> str:
        return template.format(**self.values())

    def client(self, persona: str, credential: str = "session") -> requests.Session:
        """A client acting as ``persona``: logged in through the login form (``session``) or
        carrying an API access token (``token``); the link holder has opened the share link."""
        client = self.target.session()
        if persona == "link_holder":
            landing = client.get(f"{self.target.url}/s/{self.share_token}", allow_redirects=False)
            assert landing.status_code == 302, landing.text
        elif persona != "anonymous" and credential == "token":
            client.headers["Authorization"] = f"Bearer {self.token(persona)}"
        elif persona != "anonymous":
            login(client, self.target.url, USERS[persona])
        return client

    def token(self, persona: str) -> str:
        answer = self.target.session().post(
            f"{self.target.url}/api/auth/login",
            json={"email": USERS[persona], "password": PASSWORD},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["access"]


def login(client: requests.Session, url: str, email: str, password: str = PASSWORD) -> None:
    """The login form, as a browser sends it; the session's later writes carry the CSRF token
    as a page's script does (X-CSRFToken, with the Referer HTTPS asks for)."""
    form = client.get(f"{url}/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert csrf, form.text[:500]
    answer = client.post(
        f"{url}/accounts/login/",
        data={"email": email, "password": password, "csrfmiddlewaretoken": csrf.group(1)},
        headers={"Referer": f"{url}/accounts/login/"},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    client.headers["X-CSRFToken"] = client.cookies.get("csrftoken") or ""
    client.headers["Referer"] = f"{url}/"


def build_world(target: Target, ids: dict[str, int]) -> World:
    """Both studies uploaded through the API and patient A's shared (zip allowed), by the
    administrator, as staff would."""
    world = World(target, ids)
    admin = world.client("admin", "token")
    for side, patient in (("A", "patient_a"), ("B", "patient_b")):
        answer = admin.post(
            f"{target.url}/api/patients/{ids[patient]}/dicom",
            data=INSTANCES[side].content,
            headers={"Content-Type": "application/dicom"},
        )
        assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    made = admin.post(
        f"{target.url}/api/shares",
        json={"study_uid": INSTANCES["A"].study_uid, "allow_download": True},
    )
    assert made.status_code == 201, made.text
    world.share_id = made.json()["id"]
    world.share_token = made.json()["url"].rsplit("/", 1)[1]
    return world
