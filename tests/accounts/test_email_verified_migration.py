"""The migration that adds `email_verified` marks every existing user verified: accounts made
before verification existed were never asked to verify and keep working as they did."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0004_personal_access_token")]
AFTER = [("accounts", "0005_email_verified_and_tokens")]


def test_existing_users_are_verified_by_the_migration():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_user = executor.loader.project_state(BEFORE).apps.get_model("accounts", "User")
    old_user.objects.create(email="old@example.com", password="!")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    new_user = executor.loader.project_state(AFTER).apps.get_model("accounts", "User")
    assert new_user.objects.get(email="old@example.com").email_verified is True
