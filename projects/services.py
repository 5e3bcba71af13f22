from django.db import transaction

from accounts.models import User
from projects.models import Membership, Project, Role

INBOX_NAME = "Inbox"


@transaction.atomic
def project_create_inbox(*, owner: User) -> Project:
    """The personal Inbox every user gets at registration."""
    project = Project.objects.create(name=INBOX_NAME, owner=owner, is_inbox=True)
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    return project
