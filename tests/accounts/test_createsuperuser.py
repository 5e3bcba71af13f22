"""Operators create the first admin account with `manage.py createsuperuser`, keyed by email."""

from django.core.management import call_command

from accounts.models import User


def test_createsuperuser_asks_for_an_email_and_stores_it_lower_cased(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an-operator-passphrase-1")

    call_command("createsuperuser", "--noinput", "--email", "Ops@Example.COM", verbosity=0)

    user = User.objects.get()
    assert user.email == "ops@example.com"
    assert user.is_superuser and user.is_staff
    assert user.check_password("an-operator-passphrase-1")


def test_the_superuser_can_log_in_to_the_admin(client, db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an-operator-passphrase-1")
    call_command("createsuperuser", "--noinput", "--email", "ops@example.com", verbosity=0)

    assert client.login(username="OPS@example.com", password="an-operator-passphrase-1")
    assert client.get("/admin/").status_code == 200
