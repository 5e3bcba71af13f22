"""Operators' pages: the webhook list and the delivery log render, the secret never shows,
switching a webhook back on goes through the service, and an event can be sent again."""

import pytest
from django.test import Client

from accounts.models import User
from tasks.services import task_create
from webhooks.models import Delivery, Webhook
from webhooks.services import webhook_create


@pytest.fixture
def operator(db):
    client = Client()
    client.force_login(
        User.objects.create_superuser("operator@example.com", "a-long-test-passphrase-42")
    )
    return client


@pytest.fixture
def hook(team):
    made = webhook_create(
        project=team.project,
        actor=team.owner,
        data={"url": "https://hooks.example.invalid/x", "events": ["*"]},
    )
    task_create(actor=team.owner, data={"project": team.project, "title": "Hello"})
    Delivery.objects.update(response_body="upstream says no", error="HTTP 500")
    return made


def test_pages_render_without_the_secret(operator, hook):
    delivery = Delivery.objects.get()
    for url in [
        "/admin/webhooks/webhook/",
        f"/admin/webhooks/webhook/{hook.pk}/change/",
        "/admin/webhooks/delivery/?status__exact=pending",
        f"/admin/webhooks/delivery/{delivery.pk}/change/",
    ]:
        response = operator.get(url)
        assert response.status_code == 200, url
        assert hook.secret.encode() not in response.content
    page = operator.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content
    assert b"upstream says no" in page and b"HTTP 500" in page


def test_switching_back_on_clears_the_reason(operator, hook):
    Webhook.objects.filter(pk=hook.pk).update(
        is_active=False, disabled_reason="Disabled after 20", consecutive_failures=20
    )
    response = operator.post(
        f"/admin/webhooks/webhook/{hook.pk}/change/",
        {"description": "", "is_active": "on"},
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.is_active and hook.disabled_reason == "" and hook.consecutive_failures == 0


def test_deliver_again(operator, hook):
    delivery = Delivery.objects.get()
    response = operator.post(
        "/admin/webhooks/delivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    assert list(Delivery.objects.values_list("event_id", flat=True)) == [delivery.event_id] * 2
