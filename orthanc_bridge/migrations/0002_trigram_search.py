"""Trigram indexes for name and description searches with wildcards anywhere (``*dupre*``).

PostgreSQL only (as patients 0002); SQLite, the embedded database of ``make run``, scans.
"""

from django.db import migrations

INDEXES = {
    "indexed_study_name_trgm": "patient_name_fold",
    "indexed_study_description_trgm": "study_description_fold",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} "
            f"ON orthanc_bridge_indexedstudy USING gin ({column} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orthanc_bridge", "0001_study_index")]

    operations = [migrations.RunPython(create, drop)]
