from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import Group, Permission

from accounts.models import User

DEFAULT_PASSWORD = "Correct-Horse-42"


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Group {n}")

    @factory.post_generation
    def rights(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """GroupFactory(rights=["accounts.view_images", ...])."""
        for right in extracted or ():
            app_label, codename = right.split(".")
            self.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@hopital.example")
    name = factory.Faker("name")
    is_active = True
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def groups(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted:
            self.groups.set(extracted)
        self.save()
