"""The services that are always the outermost transaction of their write are marked durable:
called inside another transaction by mistake, they refuse before writing anything."""

import inspect

import pytest
from django.db import transaction

from accounts import services as accounts
from webhooks import services as webhooks

pytestmark = pytest.mark.django_db

OUTERMOST = [
    accounts.user_register,
    accounts.user_update,
    accounts.user_change_password,
    accounts.personal_token_create,
    webhooks.webhook_create,
    webhooks.webhook_rotate_secret,
    webhooks.webhook_ping,
    webhooks.delivery_redeliver,
]


@pytest.mark.parametrize("service", OUTERMOST, ids=lambda service: service.__name__)
def test_an_outermost_service_refuses_to_run_inside_another_transaction(service):
    """The durability check runs on entry, before the body reads its arguments."""
    arguments = {
        name: None
        for name, parameter in inspect.signature(service).parameters.items()
        if parameter.default is inspect.Parameter.empty
    }
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        service(**arguments)
