"""The "share images" right, granted to the Administrateurs group where it exists (its default
holder; other groups get it from an administrator)."""

from django.db import migrations


def grant_to_administrators(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _created = ContentType.objects.get_or_create(app_label="accounts", model="right")
    # Permissions are otherwise created after the migrations (post_migrate): made here so the
    # grant can be written now.
    right, _created = Permission.objects.get_or_create(
        content_type=content_type,
        codename="share_images",
        defaults={"name": "Share images by link"},
    )
    for group in Group.objects.filter(name="Administrateurs"):
        group.permissions.add(right)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='right',
            options={'default_permissions': (), 'managed': False, 'permissions': [('view_group_patients', 'View the patients of my groups'), ('view_all_patients', 'View all patients'), ('add_patient', 'Add patients'), ('change_patient', 'Change patients'), ('delete_patient', 'Delete patients'), ('view_images', 'View images'), ('upload_dicom', 'Upload DICOM files'), ('share_images', 'Share images by link'), ('manage_users', 'Manage users and groups'), ('view_audit_log', 'View the audit log')], 'verbose_name': 'right', 'verbose_name_plural': 'rights'},
        ),
        migrations.RunPython(grant_to_administrators, migrations.RunPython.noop),
    ]
