"""The study index follows Orthanc: studies sent behind the portal's back (as modalities do),
deleted ones, a replaced Orthanc, and patient records created after their images."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from devtools.dicom_samples import demo_study, one_instance_study
from orthanc_bridge.client import OrthancClient
from orthanc_bridge.index import sync
from orthanc_bridge.index.models import IndexedSeries, IndexedStudy, SyncState
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def modality(orthanc):
    """Stores straight into Orthanc, as a modality's C-STORE does: nothing tells the portal."""
    client = OrthancClient(orthanc.base_url, "preview", orthanc.session.auth[1])

    def send(instances) -> None:
        for instance in instances:
            client.store_instance(io.BytesIO(instance.content))

    return send


def test_the_follower_indexes_a_study_sent_behind_the_portals_back(modality, group_a):
    patient = PatientFactory(external_id="P-1", groups=[group_a])
    sync.follow_once()  # the first run builds the index (empty here)
    study = demo_study(patient_id="P-1", patient_name="DUPRÉ^Hélène", ct_count=2, mr_count=1)
    modality(study)
    assert not IndexedStudy.objects.exists()

    assert sync.follow_once() == 1

    row = IndexedStudy.objects.get()
    assert (row.study_uid, row.dicom_patient_id, row.patient) == (
        study[0].study_uid,
        "P-1",
        patient,
    )
    assert (row.patient_name, row.patient_name_fold) == ("DUPRÉ^Hélène", "DUPRE^HELENE")
    assert row.modality_list == ["CT", "MR"]
    assert (row.series_count, row.instance_count) == (2, 3)
    assert sorted(row.series.values_list("modality", "instance_count")) == [("CT", 2), ("MR", 1)]
    assert sync.follow_once() == 0  # nothing new: nothing read again


def test_a_rebuild_reads_the_whole_archive(modality, group_a):
    PatientFactory(external_id="P-2", groups=[group_a])
    modality([one_instance_study(patient_id="P-2"), one_instance_study(patient_id="P-2")])
    modality([one_instance_study(patient_id="NOBODY")])

    assert sync.rebuild() == 3

    assert IndexedStudy.objects.filter(patient__external_id="P-2").count() == 2
    assert IndexedStudy.objects.filter(patient__isnull=True).get().dicom_patient_id == "NOBODY"
    assert IndexedSeries.objects.count() == 3
    assert SyncState.objects.get().last_change == sync.last_change()


def test_a_deleted_study_leaves_the_index_at_the_next_comparison(modality, orthanc):
    modality([one_instance_study(patient_id="P-3")])
    sync.follow_once()
    row = IndexedStudy.objects.get()

    orthanc.delete(f"/studies/{row.orthanc_id}")
    sync.follow_once()  # Orthanc 1.10 logs no change for a deletion
    assert sync.reconcile() == 1

    assert not IndexedStudy.objects.exists()


def test_an_orthanc_behind_the_stored_cursor_was_replaced_and_is_read_again(modality):
    modality([one_instance_study(patient_id="P-4")])
    IndexedStudy.objects.create(orthanc_id="stale", study_uid="1.2.3", dicom_patient_id="GONE")
    SyncState.objects.create(
        orthanc=sync.get_client().base_url, last_change=10**9, rebuilt_at=timezone.now()
    )

    sync.follow_once()

    assert list(IndexedStudy.objects.values_list("dicom_patient_id", flat=True)) == ["P-4"]
    assert SyncState.objects.get().last_change == sync.last_change()


def test_a_patient_created_later_takes_its_studies_without_asking_orthanc(
    modality, settings, group_a
):
    modality([one_instance_study(patient_id="LATE-1")])
    sync.follow_once()
    settings.ORTHANC_URL = "http://127.0.0.1:9"  # no Orthanc from here on

    patient = PatientFactory(external_id="LATE-1", groups=[group_a])
    assert IndexedStudy.objects.get().patient == patient

    patient.external_id = "LATE-2"
    patient.save()
    assert IndexedStudy.objects.get().patient is None


def test_the_command_rebuilds_and_says_so(modality, capsys):
    modality([one_instance_study(patient_id="P-5")])

    call_command("orthanc_sync", "--full")

    assert "Indexed 1 studies" in capsys.readouterr().out
    assert IndexedStudy.objects.count() == 1


def test_the_command_with_orthanc_down_is_a_clear_error(settings):
    from devtools.local_server import free_port

    settings.ORTHANC_URL = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(CommandError, match="could not be brought up to date"):
        call_command("orthanc_sync")


def test_a_uid_held_twice_is_marked_until_one_copy_is_deleted(modality, orthanc):
    import pydicom

    first = one_instance_study(patient_id="TWIN-A")
    dataset = pydicom.dcmread(io.BytesIO(one_instance_study(patient_id="TWIN-B").content))
    dataset.StudyInstanceUID = first.study_uid
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    modality([first])
    sync.follow_once()
    assert not IndexedStudy.objects.get().uid_shared

    orthanc.store_instance(buffer.getvalue())  # the same UID under another PatientID
    assert list(IndexedStudy.objects.values_list("uid_shared", flat=True)) == [True, True]

    twin = IndexedStudy.objects.get(dicom_patient_id="TWIN-B")
    orthanc.delete(f"/studies/{twin.orthanc_id}")
    sync.reconcile()
    assert not IndexedStudy.objects.get().uid_shared


def test_a_patient_id_longer_than_any_record_is_never_cut_to_match_one(modality, group_a):
    from django.test import Client

    from accounts.tests.factories import UserFactory

    PatientFactory(external_id="P" * 64, groups=[group_a])
    member = UserFactory(groups=[group_a])
    study = one_instance_study(patient_id="P" * 64 + "X")
    modality([study])
    sync.follow_once()
    client = Client()
    client.force_login(member)

    assert not IndexedStudy.objects.exists()
    assert client.get(f"/dicom-web/studies/{study.study_uid}/series").status_code == 404
    assert client.get(f"/dicom-web/studies?StudyInstanceUID={study.study_uid}").json() == []


def test_a_copy_stored_behind_the_followers_back_is_a_conflict_at_once(modality, orthanc, group_a):
    import pydicom
    from django.test import Client

    from accounts.tests.factories import UserFactory

    PatientFactory(external_id="MINE-1", groups=[group_a])
    member = UserFactory(groups=[group_a])
    mine = one_instance_study(patient_id="MINE-1")
    orthanc.store_instance(mine.content)  # indexed
    dataset = pydicom.dcmread(io.BytesIO(one_instance_study(patient_id="THEIRS-1").content))
    dataset.StudyInstanceUID = mine.study_uid
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    modality_copy = OrthancClient(orthanc.base_url, "preview", orthanc.session.auth[1])
    modality_copy.store_instance(buffer.getvalue())  # not indexed yet: the follower is behind
    client = Client()
    client.force_login(member)

    response = client.get(f"/dicom-web/studies/{mine.study_uid}/metadata")

    assert (response.status_code, response.json()["code"]) == (409, "study_uid_conflict")
