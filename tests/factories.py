"""Factories default to the least privilege: a plain user, a plain member."""

import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from projects.models import Membership, Project, Role
from projects.services import project_create_inbox

DEFAULT_PASSWORD = "a-long-test-passphrase-42"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    timezone = "UTC"
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def inbox(obj, create, extracted, **kwargs):
        """Every user has an Inbox, as registration guarantees."""
        if create:
            obj.save()
            project_create_inbox(owner=obj)


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    owner = factory.SubFactory(UserFactory)

    @factory.post_generation
    def owner_membership(obj, create, extracted, **kwargs):
        if create:
            Membership.objects.create(project=obj, user=obj.owner, role=Role.OWNER)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class TaskFactory(DjangoModelFactory):
    """A pending, unassigned task created by its project's owner."""

    class Meta:
        model = "tasks.Task"

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    status = "pending"
    created_by = factory.LazyAttribute(lambda task: task.project.owner)
