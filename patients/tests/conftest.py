from __future__ import annotations

import pytest

from patients.tests.factories import PatientFactory


@pytest.fixture
def patient_a(group_a):
    return PatientFactory(
        external_id="CARDIO-001", family_name="Durand", given_name="Anne", groups=[group_a]
    )


@pytest.fixture
def patient_b(group_b):
    return PatientFactory(
        external_id="RADIO-001", family_name="Petit", given_name="Bruno", groups=[group_b]
    )
