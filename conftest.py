import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import User
from config.settings import DEVELOPMENT_KEY_FILE, development_secret_key
from core.breaker import reset_all
from projects.models import Project, Role
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.support.auth import logged_in
from tests.support.openapi import validating_test_clients
from tests.support.parallel import redis_url_of_worker

# The `smtp_server` and `mail` fixtures: a real SMTP server on loopback (email tests).
pytest_plugins = ["tests.support.smtp"]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs):
    """Parallel runs (`make test`, pytest-xdist): before any worker process starts.

    Each worker gets a Redis database of its own (REDIS_URL's, then the next ones): the
    settings are read while a worker starts, so only its environment can say which, and the
    servers and workers its tests start inherit it. Its PostgreSQL test database is
    pytest-django's `test_<name>_gw<n>`.

    A DEBUG start without a key writes the checkout's development key once: made here, no
    two workers race to create it.
    """
    base = os.environ.get("REDIS_URL")
    for index, spec in enumerate(specs):
        if base:
            try:
                spec.env["REDIS_URL"] = redis_url_of_worker(base, index)
            except ValueError as error:
                raise pytest.UsageError(str(error)) from None
    development_secret_key(Path(settings.BASE_DIR) / DEVELOPMENT_KEY_FILE)


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Production's manifest storage (DEBUG off) needs `collectstatic` before any page that
    links a static file (the admin) can render; tests must not depend on a leftover
    `staticfiles/` directory. The real server's assets are checked by .ci/smoke.py."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True, scope="session")
def _success_bodies_match_the_schema():
    """Every 2xx JSON body a test client sees is checked against the OpenAPI schema."""
    with validating_test_clients():
        yield


@pytest.fixture(autouse=True)
def _redis_breakers_closed():
    """A test that made Redis fail must not leave the next one without it (core/breaker.py)."""
    yield
    reset_all()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def auth_client(user):
    """An API client logged in as `user` with a real access token."""
    return logged_in(user)


@pytest.fixture
def client_for(db):
    """Build a logged-in client for any user: `client_for(member)`."""
    return logged_in


@dataclass
class Team:
    """A shared project with one user in each role, another plain member to act on, and a
    stranger who belongs to none of it."""

    project: Project
    owner: User
    admin: User
    member: User
    other_member: User
    stranger: User


@pytest.fixture
def team(db) -> Team:
    project = ProjectFactory(name="Launch", description="Everything for the launch.")
    return Team(
        project=project,
        owner=project.owner,
        admin=MembershipFactory(project=project, role=Role.ADMIN).user,
        member=MembershipFactory(project=project).user,
        other_member=MembershipFactory(project=project).user,
        stranger=UserFactory(),
    )


@pytest.fixture
def owner(client_for, team):
    """A client logged in as the team's owner."""
    return client_for(team.owner)


@pytest.fixture
def member(client_for, team):
    """A client logged in as the team's plain member."""
    return client_for(team.member)


@pytest.fixture(autouse=True)
def _email_stays_in_process(monkeypatch):
    """In-process tests hand no message to a real broker (the folder broker would write into
    the checkout, Redis would queue for whichever worker a server test starts); the `mail`
    fixture (tests/support/smtp.py) records them instead and runs the worker's task itself."""
    from core import mail  # noqa: PLC0415 - after Django is set up

    monkeypatch.setattr(mail.send_email, "apply_async", lambda *args, **kwargs: None)
