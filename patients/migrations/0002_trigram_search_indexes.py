"""Trigram indexes for the patient search (``icontains`` on names and external ID).

PostgreSQL only: Django's ``icontains`` becomes ``UPPER(col) LIKE UPPER('%term%')``, which these
GIN indexes on ``UPPER(col)`` serve, so a search stays fast at 100,000 patients. SQLite (the
embedded database of ``make run``) gets nothing and scans, which is fine at its size.
"""

from django.db import migrations

COLUMNS = ["external_id", "family_name", "given_name"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS patient_{column}_trgm "
            f'ON patients_patient USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS patient_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
