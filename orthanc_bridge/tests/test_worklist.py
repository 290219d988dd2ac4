"""The worklist (/studies/ and GET /api/studies): the user's exams, newest first, found by
patient, date, modality, description, accession number and referring physician."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orthanc_bridge.index.models import IndexedStudy
from orthanc_bridge.tests.factories import IndexedStudyFactory
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def day(offset: int = 0) -> str:
    return (timezone.localdate() + timedelta(days=offset)).strftime("%Y%m%d")


def indexed(patient, uid: str, **fields) -> IndexedStudy:
    return IndexedStudyFactory.create(
        patient=patient, study_uid=uid, **{"study_date": day(), **fields}
    )


@pytest.fixture
def exams(group_a, group_b):
    dupre = PatientFactory(
        external_id="IPP-1001", family_name="Dupré", given_name="Hélène", groups=[group_a]
    )
    martin = PatientFactory(
        external_id="IPP-2002", family_name="Martin", given_name="Luc", groups=[group_a]
    )
    other = PatientFactory(
        external_id="IPP-9009", family_name="Dupont", given_name="Paul", groups=[group_b]
    )
    return {
        "today_ct": indexed(dupre, "1.2.1", study_description="Scanner thoracique",
                            accession_number="ACC-77", referring_physician="HOUSE^Gregory"),
        "yesterday_mr": indexed(martin, "1.2.2", study_date=day(-1), modalities=" MR ",
                                study_description="IRM cérébrale"),
        "old_ct": indexed(dupre, "1.2.3", study_date=day(-40), study_description="Scanner"),
        "other_group": indexed(other, "1.2.9", study_description="Scanner thoracique"),
    }  # fmt: skip


def found(client: Client, **query) -> list[str]:
    answer = client.get("/api/studies", query)
    assert answer.status_code == 200, answer.content
    return [row["study_instance_uid"] for row in answer.json()["results"]]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, ["1.2.1", "1.2.2", "1.2.3"]),  # newest first; never another group's
        ({"period": "today"}, ["1.2.1"]),
        ({"period": "yesterday"}, ["1.2.2"]),
        ({"period": "7d"}, ["1.2.1", "1.2.2"]),
        ({"q": "helene dupre"}, ["1.2.1", "1.2.3"]),  # accents, case, any word order
        ({"q": "IPP-20"}, ["1.2.2"]),  # an IPP prefix
        ({"q": "dupont"}, []),  # another group's patient: not even found
        ({"modality": "mr"}, ["1.2.2"]),
        ({"description": "thoracique"}, ["1.2.1"]),
        ({"accession": "ACC-7"}, ["1.2.1"]),
        ({"referring": "house"}, ["1.2.1"]),
        ({"period": "custom", "date_from": "2000-01-01", "date_to": "2000-12-31"}, []),
    ],
)
def test_the_api_finds_the_users_exams(query, expected, login_client, member_a, exams):
    assert found(login_client(member_a), **query) == expected


def test_a_custom_range_takes_both_dates(login_client, member_a, exams):
    start = (timezone.localdate() - timedelta(days=41)).isoformat()
    end = (timezone.localdate() - timedelta(days=2)).isoformat()

    assert found(login_client(member_a), date_from=start, date_to=end) == ["1.2.3"]


def test_bad_filters_are_a_json_400(login_client, member_a, exams):
    answer = login_client(member_a).get("/api/studies", {"date_from": "yesterday-ish"})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"


def test_the_page_shows_french_dates_and_links_to_patient_and_viewer(login_client, member_a, exams):
    client = login_client(member_a)

    page = client.get("/studies/", {"period": "today"}).content.decode()

    today = timezone.localdate().strftime("%d/%m/%Y")
    assert f"{today} 10:15" in page
    assert f'href="/patients/{exams["today_ct"].patient_id}/"' in page
    assert 'href="/viewer/viewer?StudyInstanceUIDs=1.2.1"' in page
    assert "IRM" not in page


def test_htmx_gets_only_the_table(login_client, member_a, exams):
    answer = login_client(member_a).get("/studies/", {"modality": "MR"}, HTTP_HX_REQUEST="true")

    body = answer.content.decode()
    assert body.lstrip().startswith('<div id="worklist-table"')
    assert "IRM cérébrale" in body and "Scanner" not in body


def test_the_worklist_needs_the_view_images_right(login_client, no_rights_user, client):
    assert login_client(no_rights_user).get("/studies/").status_code == 403
    assert login_client(no_rights_user).get("/api/studies").status_code == 403
    assert client.get("/studies/").status_code == 302  # to the login page


def test_a_list_larger_than_the_cap_says_so_instead_of_counting_it_all(
    login_client, member_a, exams, monkeypatch
):
    from web.lists import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "CAP", 2)
    client = login_client(member_a)

    page = client.get("/studies/").content.decode()
    api = client.get("/api/studies").json()

    assert "Plus de 2 examens" in page
    assert api["count"] == 3 and len(api["results"]) == 3


def test_api_dates_are_iso_only(login_client, member_a, exams):
    answer = login_client(member_a).get("/api/studies", {"date_from": "03/04/2025"})

    assert answer.status_code == 400
