from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conftest import login
from projects.models import Project
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    """A fresh in-memory channel layer per test, with or without REDIS_URL: nothing from
    another test (or another process sharing Redis) can arrive on a socket. Socket slots are
    counted in memory too (tests that want Redis set REDIS_URL again)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.REDIS_URL = ""


@dataclass
class Person:
    """A user with a logged-in API client and the access token their sockets use."""

    user: User
    client: APIClient
    access: str

    @property
    def id(self) -> int:
        return self.user.pk


def person(user: User) -> Person:
    client = APIClient()
    access = login(client, user)["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return Person(user=user, client=client, access=access)


@dataclass
class Team:
    """The root conftest's team, its people logged in for their sockets, and a `newcomer` who
    belongs to nothing but their own Inbox (tests add them); the stranger stays out."""

    project: Project
    owner: Person
    member: Person
    newcomer: Person
    stranger: Person


@pytest.fixture
def team(team, transactional_db) -> Team:
    return Team(
        project=team.project,
        owner=person(team.owner),
        member=person(team.member),
        newcomer=person(UserFactory()),
        stranger=person(team.stranger),
    )
