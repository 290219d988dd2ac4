"""A trigram index for the worklist's referring-physician filter (words anywhere in the name).

PostgreSQL only (as 0002); SQLite, the embedded database of ``make run``, scans.
"""

from django.db import migrations

NAME = "indexed_study_referring_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} "
        "ON orthanc_bridge_indexedstudy USING gin (referring_physician_fold gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("orthanc_bridge", "0004_upload_action")]

    operations = [migrations.RunPython(create, drop)]
