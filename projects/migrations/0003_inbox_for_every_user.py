"""Every user has an Inbox: give one to users created before that was enforced everywhere
(for instance by `createsuperuser`)."""

from django.db import migrations


def add_missing_inboxes(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Project = apps.get_model("projects", "Project")
    Membership = apps.get_model("projects", "Membership")
    without_inbox = User.objects.exclude(
        id__in=Project.objects.filter(is_inbox=True).values("owner_id")
    )
    for user in without_inbox.iterator():
        inbox = Project.objects.create(name="Inbox", owner=user, is_inbox=True)
        Membership.objects.create(project=inbox, user=user, role="owner")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_idempotency"),
        ("projects", "0002_activity"),
    ]

    operations = [migrations.RunPython(add_missing_inboxes, migrations.RunPython.noop)]
