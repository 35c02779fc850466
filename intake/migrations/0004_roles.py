"""The staff roles: Practitioner, Clinic admin, and Medical lead (may override not-possible flags)."""

from django.db import migrations

PRACTITIONER = [
    "view_submission",
    "review_submission",
    "view_invitation",
    "add_invitation",
    "change_invitation",
    "view_questionset",
    "view_questionsetversion",
]
CLINIC_ADMIN = PRACTITIONER + [
    "export_submission",
    "view_auditentry",
    "add_questionset",
    "change_questionset",
    *(
        f"{action}_{model}"
        for model in ("questionsetversion", "section", "question", "choice", "rule", "parameter")
        for action in ("add", "change", "delete", "view")
    ),
]
MEDICAL_LEAD = PRACTITIONER + ["override_not_possible"]
ROLES = {"Practitioner": PRACTITIONER, "Clinic admin": CLINIC_ADMIN, "Medical lead": MEDICAL_LEAD}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrations; the roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="intake", codename__in=codenames)
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("intake", "0003_review_and_audit"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
