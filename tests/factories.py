"""Factories default to the least privilege: a plain user, a plain member."""

import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from accounts.services import user_create
from projects.models import Membership, Project, Role
from tasks.ordering import position_after_last

DEFAULT_PASSWORD = "a-long-test-passphrase-42"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    timezone = "UTC"
    email_verified = True
    password = DEFAULT_PASSWORD

    @classmethod
    def _create(cls, model_class, *args, password=DEFAULT_PASSWORD, **kwargs):
        """Through the service, as every user is made: with their Inbox."""
        user = model_class(*args, **kwargs)
        user.set_password(password)
        return user_create(user=user)


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
    # After every task of its project, as the services place a new task.
    position = factory.LazyAttribute(lambda task: position_after_last(task.project.pk))
