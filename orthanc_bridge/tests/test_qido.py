"""QIDO-RS answered from the study index: matching as PS3.4 defines it (and as users expect),
only the user's studies, and answers that are Orthanc's own for the same studies."""

from __future__ import annotations

import io

import pydicom
import pytest
from django.test import Client

from devtools.dicom_samples import demo_study, one_instance_study
from orthanc_bridge.client import OrthancClient
from orthanc_bridge.index.models import IndexedStudy
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

STUDY_UID, PATIENT_ID, RETRIEVE_URL = "0020000D", "00100020", "00081190"


@pytest.fixture
def archive(orthanc, group_a, group_b):
    """Four studies of three patients (two of group A's, one of group B's) and one study no
    patient record claims."""
    dupre = PatientFactory(external_id="P-DUP", family_name="Dupré", groups=[group_a])
    PatientFactory(external_id="P-MAR", family_name="Martin", groups=[group_a])
    PatientFactory(external_id="P-OTH", family_name="Autre", groups=[group_b])
    studies = {
        "dupre_ct": one_instance_study(
            patient_id="P-DUP", patient_name="DUPRÉ^Hélène", study_date="20250110",
            accession_number="ACC-100", study_description="Scanner cardiaque",
        ),
        "dupre_mr": one_instance_study(
            patient_id="P-DUP", patient_name="DUPRÉ^Hélène", study_date="20250220",
            study_time="083000", accession_number="ACC-200", study_description="IRM genou",
            modality="MR",
        ),
        "martin": one_instance_study(
            patient_id="P-MAR", patient_name="MARTIN^Paul", study_date="20241231",
            accession_number="XYZ-300", study_description="Thorax",
        ),
        "other": one_instance_study(
            patient_id="P-OTH", patient_name="DUPRÉ^Hélène", study_date="20250115",
            accession_number="ACC-400",
        ),
        "unassigned": one_instance_study(patient_id="NOBODY-1", patient_name="DUPRÉ^Inconnue"),
    }  # fmt: skip
    for instance in studies.values():
        orthanc.store_instance(instance.content)
    return {"dupre": dupre, **{key: value.study_uid for key, value in studies.items()}}


@pytest.fixture
def as_member(member_a):
    client = Client()
    client.force_login(member_a)
    return client


@pytest.fixture
def as_admin(admin):
    client = Client()
    client.force_login(admin)
    return client


def uids(response) -> list[str]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/dicom+json"
    return [item[STUDY_UID]["Value"][0] for item in response.json()]


def direct(orthanc, query: str) -> list[dict]:
    response = orthanc.session.get(f"{orthanc.base_url}/dicom-web/{query}")
    assert response.status_code == 200
    return response.json()


def test_a_member_sees_only_the_studies_of_patients_they_see_newest_first(archive, as_member):
    assert uids(as_member.get("/dicom-web/studies")) == [
        archive["dupre_mr"], archive["dupre_ct"], archive["martin"]
    ]  # fmt: skip


def test_the_admin_sees_every_patients_studies_but_not_unassigned_ones(archive, as_admin):
    found = uids(as_admin.get("/dicom-web/studies"))

    assert set(found) == {archive[k] for k in ("dupre_ct", "dupre_mr", "martin", "other")}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Person names: case and accents ignored, wildcards anywhere.
        ("PatientName=dupre*", ["dupre_mr", "dupre_ct"]),
        ("PatientName=DUPRÉ^Hélène", ["dupre_mr", "dupre_ct"]),
        ("PatientName=*hel*", ["dupre_mr", "dupre_ct"]),
        ("PatientName=MART?N^PAUL", ["martin"]),
        ("PatientName=dupre", []),  # no wildcard: the whole name
        ("PatientName=hel&fuzzymatching=true", ["dupre_mr", "dupre_ct"]),
        ("PatientName=paul mar&fuzzymatching=true", ["martin"]),
        # Dates: single values and ranges.
        ("StudyDate=20250110", ["dupre_ct"]),
        ("StudyDate=20250101-20250131", ["dupre_ct"]),
        ("StudyDate=-20250131", ["dupre_ct", "martin"]),
        ("StudyDate=20250101-", ["dupre_mr", "dupre_ct"]),
        ("StudyDate=20250220&StudyTime=0800-0900", ["dupre_mr"]),
        ("StudyTime=0900-", ["dupre_ct", "martin"]),
        # Identifiers: exact or with wildcards.
        ("AccessionNumber=ACC-200", ["dupre_mr"]),
        ("AccessionNumber=ACC*", ["dupre_mr", "dupre_ct"]),
        ("PatientID=P-MAR", ["martin"]),
        ("PatientID=P-*", ["dupre_mr", "dupre_ct", "martin"]),
        ("00100020=P-MAR", ["martin"]),  # a tag instead of a keyword
        # Descriptions: case and accents ignored.
        ("StudyDescription=*CARDIAQUE*", ["dupre_ct"]),
        ("StudyDescription=irm*", ["dupre_mr"]),
        ("ModalitiesInStudy=MR", ["dupre_mr"]),
        ("ModalitiesInStudy=CT,MR", ["dupre_mr", "dupre_ct", "martin"]),
        ("ModalitiesInStudy=US", []),
        # Another group's study stays out of every search.
        ("AccessionNumber=ACC-400", []),
    ],
)
def test_matching(archive, as_member, query, expected):
    assert uids(as_member.get(f"/dicom-web/studies?{query}")) == [archive[k] for k in expected]


def test_uid_lists_take_commas_and_backslashes(archive, as_member):
    pair = [archive["dupre_ct"], archive["martin"]]

    for separator in (",", "\\", "%2C", "%5C"):
        found = uids(as_member.get(f"/dicom-web/studies?StudyInstanceUID={separator.join(pair)}"))
        assert sorted(found) == sorted(pair)
    # Another group's UID in the list is simply not found.
    listed = f"{archive['dupre_ct']},{archive['other']}"
    assert uids(as_member.get(f"/dicom-web/studies?StudyInstanceUID={listed}")) == [
        archive["dupre_ct"]
    ]


def test_limit_and_offset_page_the_users_matches(archive, as_member):
    assert uids(as_member.get("/dicom-web/studies?limit=2")) == [
        archive["dupre_mr"], archive["dupre_ct"]
    ]  # fmt: skip
    assert uids(as_member.get("/dicom-web/studies?limit=2&offset=2")) == [archive["martin"]]
    assert uids(as_member.get("/dicom-web/studies?offset=3")) == []


def test_without_limit_the_answer_is_capped_and_says_so(archive, as_member, settings):
    settings.QIDO_MAX_RESULTS = 2

    capped = as_member.get("/dicom-web/studies")
    asked = as_member.get("/dicom-web/studies?limit=2")

    assert len(uids(capped)) == 2
    assert capped["Warning"].startswith("299 ")
    assert "Warning" not in asked


@pytest.mark.parametrize(
    "includefield",
    [
        "includefield=00081030&includefield=00200010",
        "includefield=00081030,00200010",
        "includefield=00081030%2C00200010",
        "includefield=StudyDescription,StudyID",
    ],
)
def test_the_answer_is_orthancs_own_for_the_same_study(archive, as_member, orthanc, includefield):
    query = f"studies?StudyInstanceUID={archive['dupre_ct']}"

    (through,) = as_member.get(f"/dicom-web/{query}&{includefield}").json()
    # Orthanc 1.10 does not split a %2C-encoded list: it is asked in the form it reads.
    (straight,) = direct(orthanc, f"{query}&includefield=00081030&includefield=00200010")

    assert through["00081030"]["Value"] == ["Scanner cardiaque"]
    assert through[RETRIEVE_URL]["Value"][0].startswith("http://testserver/dicom-web/studies/")
    # Equal but for the host in RetrieveURL (the portal's, not Orthanc's).
    assert {k: v for k, v in through.items() if k != RETRIEVE_URL} == {
        k: v for k, v in straight.items() if k != RETRIEVE_URL
    }


def test_includefield_all_is_orthancs_all(archive, as_member, orthanc):
    query = f"studies?StudyInstanceUID={archive['martin']}&includefield=all"

    (through,) = as_member.get(f"/dicom-web/{query}").json()
    (straight,) = direct(orthanc, query)

    assert set(through) == set(straight)


def test_a_filter_the_index_does_not_hold_is_matched_by_orthanc_within_the_users_studies(
    archive, as_member, orthanc
):
    # InstitutionName is not indexed: Orthanc matches it, on the user's studies only.
    institution = direct(
        orthanc, f"studies?StudyInstanceUID={archive['martin']}&includefield=00080080"
    )
    name = institution[0].get("00080080", {}).get("Value", [""])[0]
    assert name  # the sample names its institution

    found = uids(as_member.get(f"/dicom-web/studies?InstitutionName={name[:3]}*"))
    matching = {
        s[STUDY_UID]["Value"][0] for s in direct(orthanc, f"studies?InstitutionName={name[:3]}*")
    }

    assert archive["martin"] in found
    assert archive["other"] in matching and archive["other"] not in found
    assert set(found) == matching & {archive["dupre_ct"], archive["dupre_mr"], archive["martin"]}


def test_series_and_instances_without_a_study_are_the_users_only(archive, as_member, orthanc):
    series = as_member.get("/dicom-web/series").json()
    instances = as_member.get("/dicom-web/instances?limit=2").json()
    straight = {s["0020000E"]["Value"][0]: s for s in direct(orthanc, "series")}

    assert {s[STUDY_UID]["Value"][0] for s in series} == {
        archive["dupre_ct"], archive["dupre_mr"], archive["martin"]
    }  # fmt: skip
    assert len(instances) == 2
    # Searches across all studies carry the study's attributes, as Orthanc's do.
    for item in series:
        assert set(item) == set(straight[item["0020000E"]["Value"][0]])


def test_series_of_one_study_are_orthancs_answer(archive, as_member, orthanc):
    query = f"series?StudyInstanceUID={archive['dupre_mr']}"

    (through,) = as_member.get(f"/dicom-web/{query}").json()
    (straight,) = direct(orthanc, query)

    assert PATIENT_ID not in through  # asked of Orthanc for the check only
    assert {k: v for k, v in through.items() if k != RETRIEVE_URL} == {
        k: v for k, v in straight.items() if k != RETRIEVE_URL
    }
    hidden = f"series?StudyInstanceUID={archive['other']}"
    assert as_member.get(f"/dicom-web/{hidden}").json() == []
    assert as_member.get(f"/dicom-web/instances?StudyInstanceUID={archive['other']}").json() == []


def test_a_study_uid_held_by_two_patients_is_listed_for_nobody(archive, as_admin, orthanc):
    twin = demo_study(patient_id="P-MAR", ct_count=1, mr_count=0)[0]
    # The same StudyInstanceUID under another PatientID, as a modality's mistake would store it.
    dataset = pydicom.dcmread(io.BytesIO(twin.content))
    dataset.StudyInstanceUID = archive["dupre_ct"]
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    orthanc.store_instance(buffer.getvalue())

    assert archive["dupre_ct"] not in uids(as_admin.get("/dicom-web/studies"))
    assert uids(as_admin.get(f"/dicom-web/studies?StudyInstanceUID={archive['dupre_ct']}")) == []


def test_a_study_stored_behind_the_portals_back_is_found_by_its_uid_at_once(
    archive, as_member, orthanc
):
    behind = OrthancClient(orthanc.base_url, "preview", orthanc.session.auth[1])
    new = one_instance_study(patient_id="P-DUP", patient_name="DUPRÉ^Hélène")
    behind.store_instance(new.content)
    assert not IndexedStudy.objects.filter(study_uid=new.study_uid).exists()

    assert uids(as_member.get(f"/dicom-web/studies?StudyInstanceUID={new.study_uid}")) == [
        new.study_uid
    ]


@pytest.mark.parametrize("query", ["StudyDate=2025", "StudyDate=20250101-2025", "limit=x"])
def test_a_malformed_query_is_a_json_400(archive, as_member, query):
    response = as_member.get(f"/dicom-web/studies?{query}")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_query", "invalid"}


def test_a_search_page_is_orthancs_answer_kept_in_the_index(archive, as_member, orthanc, settings):
    first = as_member.get("/dicom-web/studies?PatientName=dupre*").json()
    straight = {s[STUDY_UID]["Value"][0]: s for s in direct(orthanc, "studies")}
    for item in first:
        expected = straight[item[STUDY_UID]["Value"][0]]
        assert {k: v for k, v in item.items() if k != RETRIEVE_URL} == {
            k: v for k, v in expected.items() if k != RETRIEVE_URL
        }
        assert list(item) == sorted(item)  # in tag order, as Orthanc writes
    assert IndexedStudy.objects.filter(qido_answer__isnull=False).count() == 2

    settings.ORTHANC_URL = "http://127.0.0.1:9"  # the next page needs no Orthanc
    assert as_member.get("/dicom-web/studies?PatientName=dupre*").json() == first


def test_a_study_read_again_is_answered_afresh(archive, as_member, orthanc):
    from orthanc_bridge.index.services import index_study

    as_member.get("/dicom-web/studies")
    row = IndexedStudy.objects.get(study_uid=archive["dupre_ct"])
    assert row.qido_answer is not None
    # A second series arrives: the number of series Orthanc answers changes.
    extra = one_instance_study(patient_id="P-DUP", patient_name="DUPRÉ^Hélène", modality="MR")
    dataset = pydicom.dcmread(io.BytesIO(extra.content))
    dataset.StudyInstanceUID = archive["dupre_ct"]
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    orthanc.store_instance(buffer.getvalue())
    index_study(row.orthanc_id)

    (item,) = as_member.get("/dicom-web/studies?AccessionNumber=ACC-100").json()

    assert item["00201206"]["Value"] == [2]
    assert item["00080061"]["Value"] == ["CT", "MR"]


def test_ohifs_study_list_query_is_answered_from_the_index_as_orthanc_would(
    archive, as_member, orthanc, settings
):
    ohif = "limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060%2C00080090"
    first = as_member.get(f"/dicom-web/studies?{ohif}").json()
    asked = "&".join(f"includefield={f}" for f in ("00081030", "00080060", "00080090"))
    straight = {s[STUDY_UID]["Value"][0]: s for s in direct(orthanc, f"studies?{asked}")}

    assert [s[STUDY_UID]["Value"][0] for s in first] == [
        archive["dupre_mr"], archive["dupre_ct"], archive["martin"]
    ]  # fmt: skip
    for item in first:
        expected = straight[item[STUDY_UID]["Value"][0]]
        assert {k: v for k, v in item.items() if k != RETRIEVE_URL} == {
            k: v for k, v in expected.items() if k != RETRIEVE_URL
        }
    # Fields kept for OHIF are not given to a search that did not ask for them.
    plain = as_member.get("/dicom-web/studies").json()
    assert all("00081030" not in item for item in plain)

    settings.ORTHANC_URL = "http://127.0.0.1:9"
    assert as_member.get(f"/dicom-web/studies?{ohif}").json() == first


@pytest.mark.parametrize(
    "query",
    ["PatientID=%00", "PatientName=a%01b", "offset=100000000000000000000",
     f"PatientName={'A' * 201}", "a%20b=1", "StudyDate=2025*"],
)  # fmt: skip
def test_odd_input_is_a_json_400_never_a_503(archive, as_member, query):
    response = as_member.get(f"/dicom-web/studies?{query}")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_query", "invalid"}


@pytest.mark.parametrize("key", ["studyinstanceuid", "STUDYINSTANCEUID", "0020000d", "0020,000D"])
def test_the_study_uid_is_matched_whatever_its_spelling(archive, as_member, key):
    assert uids(as_member.get(f"/dicom-web/studies?{key}={archive['martin']}")) == [
        archive["martin"]
    ]


def test_universal_matching_of_the_study_uid_finds_every_study_of_the_user(archive, as_member):
    everything = uids(as_member.get("/dicom-web/studies"))

    assert uids(as_member.get("/dicom-web/studies?StudyInstanceUID=*")) == everything
    assert uids(as_member.get("/dicom-web/studies?StudyInstanceUID=")) == everything
    series = as_member.get("/dicom-web/series?StudyInstanceUID=*").json()
    assert "00100010" in series[0]  # across all studies: the study's attributes come too


def test_several_wildcards_match_and_sql_wildcards_are_plain_characters(archive, as_member):
    found = as_member.get(f"/dicom-web/studies?PatientName={'*D' * 12}*X")

    assert uids(found) == []
    assert uids(as_member.get("/dicom-web/studies?PatientName=*D*P*E*")) == [
        archive["dupre_mr"], archive["dupre_ct"]
    ]  # fmt: skip
    # LIKE's own wildcards in a value are characters, not wildcards.
    assert uids(as_member.get("/dicom-web/studies?PatientName=%25")) == []
    assert uids(as_member.get("/dicom-web/studies?PatientName=D_PR*")) == []
