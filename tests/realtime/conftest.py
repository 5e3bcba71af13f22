from dataclasses import dataclass

import pytest

from projects.models import Project
from tests.factories import UserFactory
from tests.support.realtime import OPEN_SOCKET, Person, person


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    """A fresh in-memory channel layer per test, with or without REDIS_URL: nothing from
    another test (or another process sharing Redis) can arrive on a socket. Socket slots are
    counted in memory too (tests that want Redis set REDIS_URL again)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.REDIS_URL = ""


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


@pytest.fixture
def open_socket():
    """In an `@run_async` test: `await open_socket(token)` opens an authenticated socket whose
    `connection.ready` has arrived, `await open_socket.raw(token)` one that may be refused;
    every socket it opened is disconnected when the test ends."""
    return OPEN_SOCKET
