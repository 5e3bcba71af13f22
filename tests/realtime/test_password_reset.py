"""A password reset closes the user's open sockets with 4401, as a password change does
(tests/realtime/test_consumer.py): the reset token comes from the message the user gets."""

import pytest
from rest_framework.test import APIClient

from tests.support.realtime import CLOSE_UNAUTHORIZED, call, run_async
from tests.support.smtp import token_of

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-brand-new-passphrase-77"


@run_async
async def test_a_password_reset_closes_every_open_socket_of_the_user_with_4401(
    team, open_socket, mail
):
    first = await open_socket(team.member.access)
    someone_else = await open_socket(team.owner.access)
    email = team.member.user.email
    asked = await call(
        APIClient().post, "/api/v1/auth/password/reset/", {"email": email}, format="json"
    )
    assert asked.status_code == 202
    token = token_of(await call(mail.last_to, email))

    response = await call(
        APIClient().post,
        "/api/v1/auth/password/reset/confirm/",
        {"token": token, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204, response.content
    await first.assert_closed(CLOSE_UNAUTHORIZED)
    await someone_else.send_json({"type": "ping"})
    assert await someone_else.receive() == {"type": "pong"}
    connected, again = await open_socket.raw(team.member.access)
    assert connected
    await again.assert_closed(CLOSE_UNAUTHORIZED)
