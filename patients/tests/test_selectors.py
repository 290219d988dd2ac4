from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import rights
from accounts.tests.factories import GroupFactory, UserFactory
from patients.access import patient_for_view
from patients.selectors import patient_list_for, visible_external_ids_for
from patients.tests.factories import PatientFactory
from web.errors import NotFound

pytestmark = pytest.mark.django_db


def visible(user) -> set[str]:
    return set(patient_list_for(user=user).values_list("external_id", flat=True))


def test_view_all_sees_every_patient(viewer_all, patient_a, patient_b):
    assert visible(viewer_all) == {"CARDIO-001", "RADIO-001"}


def test_a_group_member_sees_only_patients_of_their_groups(
    member_a, member_b, patient_a, patient_b
):
    assert visible(member_a) == {"CARDIO-001"}
    assert visible(member_b) == {"RADIO-001"}


def test_a_patient_in_two_groups_is_listed_once(member_a, group_a, group_b):
    other_group = GroupFactory(name="Pédiatrie")
    member_a.groups.add(other_group)
    PatientFactory(external_id="BOTH", groups=[group_a, other_group])

    assert list(patient_list_for(user=member_a).values_list("external_id", flat=True)) == ["BOTH"]


def test_a_member_without_the_view_right_sees_nothing(patient_a, group_a):
    no_view = GroupFactory(name="Secrétariat", rights=[rights.ADD_PATIENT])
    user = UserFactory(groups=[no_view, group_a])
    group_a.permissions.clear()

    assert visible(user) == set()


def test_nobody_else_sees_anything(no_rights_user, patient_a):
    assert visible(no_rights_user) == set()
    assert visible(AnonymousUser()) == set()


def test_an_inactive_user_sees_nothing(member_a, patient_a):
    member_a.is_active = False
    member_a.save()

    assert visible(member_a) == set()


def test_an_invisible_patient_is_404_not_403(member_a, patient_b):
    with pytest.raises(NotFound):
        patient_for_view(user=member_a, pk=patient_b.pk)


def test_visible_external_ids_filters_dicom_patient_ids(member_a, patient_a, patient_b):
    found = visible_external_ids_for(
        user=member_a, external_ids=["CARDIO-001", "RADIO-001", "NOPE"]
    )

    assert found == {"CARDIO-001"}


def test_search_matches_names_and_external_id_case_insensitively(viewer_all, patient_a, patient_b):
    def ids(search):
        return [p.external_id for p in patient_list_for(user=viewer_all, search=search)]

    assert ids("durand") == ["CARDIO-001"]
    assert ids("BRUNO") == ["RADIO-001"]
    assert ids("radio-0") == ["RADIO-001"]
    assert ids("anne durand") == ["CARDIO-001"]
    assert ids("zzz") == []


def test_ordering_is_whitelisted(viewer_all, patient_a, patient_b):
    def ids(ordering):
        return [p.external_id for p in patient_list_for(user=viewer_all, ordering=ordering)]

    assert ids("external_id") == ["CARDIO-001", "RADIO-001"]
    assert ids("-external_id") == ["RADIO-001", "CARDIO-001"]
    assert ids("family_name") == ["CARDIO-001", "RADIO-001"]  # Durand < Petit
    assert ids("password; DROP TABLE") == ids("family_name")


def test_search_ignores_accents_and_case(viewer_all, group_a):
    PatientFactory(external_id="ACC-1", family_name="Lefèvre", given_name="Zoé", groups=[group_a])

    assert [p.external_id for p in patient_list_for(user=viewer_all, search="lefevre zoe")] == [
        "ACC-1"
    ]
    assert [p.external_id for p in patient_list_for(user=viewer_all, search="LEFÈVRE")] == ["ACC-1"]


def test_search_follows_a_renamed_patient(viewer_all, patient_a):
    patient_a.family_name = "Nouveau"
    patient_a.save(update_fields=["family_name"])

    assert [p.external_id for p in patient_list_for(user=viewer_all, search="nouveau")] == [
        "CARDIO-001"
    ]
    assert list(patient_list_for(user=viewer_all, search="durand")) == []
