from __future__ import annotations

from typing import Any

import factory

from patients.models import Patient


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"PID{n:06d}")
    family_name = factory.Faker("last_name", locale="fr_FR")
    given_name = factory.Faker("first_name", locale="fr_FR")

    @factory.post_generation
    def groups(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted:
            self.groups.set(extracted)
