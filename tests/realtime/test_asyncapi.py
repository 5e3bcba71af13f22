"""docs/asyncapi.yaml against what the server really sends.

Sockets of three users record every message while the API makes one change of each kind;
each message must validate against the document's schema for its type, every message type the
document promises must turn up, and the document must be closed: a payload with a field more
or less than the server sends today is refused, so neither side can drift unnoticed. The same
changes, delivered by the webhook worker to a loopback receiver, must match the webhook
channel, body and headers.
"""

import asyncio
import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from projects import consumers
from projects.models import Project
from tests.support.realtime import QUIET_SECONDS, Socket, call, run_async, sockets
from tests.support.receiver import Receiver
from tests.support.urls import (
    PROJECTS,
    TASKS,
    comment_url,
    comments_url,
    label_url,
    labels_url,
    member_url,
    members_url,
    project_url,
    task_url,
    transfer_url,
)
from webhooks import worker
from webhooks.models import Delivery, DeliveryStatus, Webhook
from webhooks.services import webhook_create, webhook_ping

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
DOCUMENT_URI = "urn:tasklane:asyncapi"
# Messages a client sends: described, never sent by the server.
CLIENT_MESSAGES = {"ping", "other client message"}


def load_document() -> dict:
    return yaml.safe_load(DOCUMENT_PATH.read_text())


def follow(document: dict, node: dict) -> dict:
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def channel_messages(document: dict, channel: str) -> dict[str, dict]:
    """The channel's messages by their `name` (the event's `type`), `$ref`s followed."""
    messages = [follow(document, m) for m in document["channels"][channel]["messages"].values()]
    return {message["name"]: message for message in messages}


class Schemas:
    """The payload schema of each message of a channel, by message name, as a jsonschema
    validator (the document is JSON Schema draft 7, AsyncAPI's default schema format)."""

    def __init__(self, document: dict, channel: str = "events"):
        registry = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT7)
        )
        self.validators = {
            name: Draft7Validator(
                {"$ref": DOCUMENT_URI + message["payload"]["$ref"]},
                registry=registry,
                format_checker=Draft7Validator.FORMAT_CHECKER,
            )
            for name, message in channel_messages(document, channel).items()
            if "$ref" in message["payload"]
        }

    def errors(self, message: dict) -> list[str]:
        validator = self.validators.get(message.get("type"))
        if validator is None:
            return [f"the document has no message named {message.get('type')!r}"]
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
            for error in validator.iter_errors(message)
        ]


# --- capturing ------------------------------------------------------------------------------


async def drain(socket: Socket) -> list[dict]:
    """Everything the socket receives until it has been quiet for a moment."""
    received = []
    while not await socket.communicator.receive_nothing(timeout=QUIET_SECONDS):
        received.append(await socket.receive())
    return received


async def api(client_method, url: str, body=None, status: int = 200):
    response = await call(client_method, url, body, format="json")
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def webhook_for(project_id: int, actor, url: str) -> Webhook:
    """Every event, `task.assigned` included (`*` leaves it out)."""
    return webhook_create(
        project=Project.objects.get(pk=project_id),
        actor=actor,
        data={"url": url, "events": ["*", "task.assigned"]},
    )


def deliver_everything(webhook: Webhook) -> None:
    """The worker's own loop over the webhook's queue, until nothing is pending."""
    deadline = time.monotonic() + 10
    while Delivery.objects.filter(webhook=webhook, status=DeliveryStatus.PENDING).exists():
        assert time.monotonic() < deadline, "deliveries still pending after 10 s"
        worker.deliver_queue(webhook.pk)


async def capture_every_message(team, webhook_url: str | None = None):
    """One change of each kind through the API, with the sockets of the project's owner, a
    member and a newcomer (who is added, promoted, assigned a task, made a viewer, then
    removed) open; plus a ping and a message that is not one. Returns every message the
    sockets received, and the webhooks (on the project, and on a project created then
    deleted) that were sent the same events and a ping when `webhook_url` is given."""
    owner, member, newcomer = team.owner, team.member, team.newcomer
    project = team.project.pk
    captured: list[dict] = []
    hooks: list[Webhook] = []
    if webhook_url:
        hooks.append(await call(webhook_for, project, owner.user, webhook_url))
    async with sockets() as open_socket:
        socks = [await open_socket(person.access) for person in (owner, member, newcomer)]
        captured += [socket.ready for socket in socks]

        async def step(client_method, url, body=None, status=200):
            result = await api(client_method, url, body, status)
            for received in await asyncio.gather(*(drain(socket) for socket in socks)):
                captured.extend(received)
            return result

        await step(owner.client.patch, project_url(project), {"name": "Launch, take two"})
        await step(
            owner.client.post, members_url(project), {"email": newcomer.user.email}, status=201
        )
        await step(owner.client.patch, member_url(project, newcomer.id), {"role": "admin"})
        task = await step(
            member.client.post,
            TASKS,
            {
                "title": "Write the launch post",
                "project_id": project,
                "assignee_id": newcomer.id,
                "due_date": "2030-01-02",
            },
            status=201,
        )
        label = await step(owner.client.post, labels_url(project), {"name": "Blog"}, status=201)
        plain = await step(
            owner.client.post, TASKS, {"title": "Plain", "project_id": project}, status=201
        )
        # The owner's own task, mentioning only themselves: no notification for anyone (the
        # notifications' own events are another part of the document).
        comment = await step(
            owner.client.post,
            comments_url(plain["id"]),
            {"body": "Draft is up", "mention_ids": [owner.id]},
            status=201,
        )
        await step(
            owner.client.patch, comment_url(plain["id"], comment["id"]), {"body": "Reviewed"}
        )
        await step(owner.client.delete, comment_url(plain["id"], comment["id"]), status=204)
        await step(
            owner.client.post,
            TASKS,
            {"title": "Labelled", "project_id": project, "label_ids": [label["id"]]},
            status=201,
        )
        await step(owner.client.patch, label_url(project, label["id"]), {"color": "#2563EB"})
        await step(owner.client.delete, label_url(project, label["id"]), status=204)
        await step(member.client.patch, task_url(task["id"]), {"status": "completed"})
        # A change to viewer unassigns the newcomer's task: member.updated lists it.
        await step(owner.client.patch, member_url(project, newcomer.id), {"role": "viewer"})
        await step(owner.client.delete, member_url(project, newcomer.id), status=204)
        await step(member.client.delete, task_url(task["id"]), status=204)
        await step(owner.client.post, transfer_url(project), {"user_id": member.id})
        side = await step(member.client.post, PROJECTS, {"name": "Side project"}, status=201)
        if webhook_url:
            hooks.append(await call(webhook_for, side["id"], member.user, webhook_url))
        await step(member.client.delete, project_url(side["id"]), status=204)

        await socks[1].send_json({"type": "ping"})
        await socks[1].send_text("not a ping")
        captured += await drain(socks[1])
    if webhook_url:
        await call(webhook_ping, webhook=hooks[0], actor=owner.user)
    return captured, hooks


# --- the tests ------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def document() -> dict:
    return load_document()


@run_async
async def test_every_message_the_server_sends_matches_the_document(team, document):
    schemas = Schemas(document)

    captured, _ = await capture_every_message(team)

    problems = {
        f"{message['type']} {message}": errors
        for message in captured
        if (errors := schemas.errors(message))
    }
    assert problems == {}
    promised = set(channel_messages(document, "events")) - CLIENT_MESSAGES
    assert {message["type"] for message in captured} == promised


@pytest.fixture
def webhook_receiver(settings):
    """A loopback receiver the worker may reach; deliveries are run by the test itself."""
    settings.WEBHOOKS_ALLOW_INSECURE = True
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_WAKE_WORKER = False
    receiver = Receiver()
    yield receiver
    receiver.close()


@run_async
async def test_every_webhook_body_matches_the_document(team, document, webhook_receiver):
    schemas = Schemas(document, "webhook")
    headers = Draft7Validator(document["components"]["schemas"]["WebhookHeaders"])

    _, hooks = await capture_every_message(team, webhook_receiver.url)
    for hook in hooks:
        await call(deliver_everything, hook)

    bodies = [json.loads(request.body) for request in webhook_receiver.requests]
    problems = {
        f"{body['type']} {body}": errors for body in bodies if (errors := schemas.errors(body))
    }
    assert problems == {}
    assert [
        error.message
        for request in webhook_receiver.requests
        for error in headers.iter_errors(request.headers)
    ] == []
    assert {body["type"] for body in bodies} == set(channel_messages(document, "webhook"))


def objects_in(value, path=()) -> Iterator[tuple[tuple, dict]]:
    """Every JSON object in a message, with its path (the message itself first)."""
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from objects_in(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from objects_in(item, (*path, index))


def at(message: dict, path: tuple) -> dict:
    for key in path:
        message = message[key]
    return message


@run_async
async def test_a_field_more_or_less_in_any_sent_object_breaks_the_document(team, document):
    """The schemas are closed (`additionalProperties: false`) and list every field as
    required, for every object the server sends, nested ones included."""
    schemas = Schemas(document)
    captured, _ = await capture_every_message(team)

    accepted = []
    for message in captured:
        for path, obj in objects_in(message):
            extra = copy.deepcopy(message)
            at(extra, path)["undocumented"] = 1
            if not schemas.errors(extra):
                accepted.append(f"{message['type']}: one more field at {path or 'top'}")
            for key in obj:
                missing = copy.deepcopy(message)
                del at(missing, path)[key]
                if not schemas.errors(missing):
                    accepted.append(f"{message['type']}: without {(*path, key)}")
    assert accepted == []


def test_the_documented_close_codes_are_the_ones_the_consumer_uses(document):
    used = {
        value
        for name, value in vars(consumers).items()
        if name.startswith("CLOSE_") and isinstance(value, int)
    }

    documented = {entry["code"] for entry in document["channels"]["events"]["x-close-codes"]}

    assert documented == used == {4401, 4403, 4404, 4429, 1012}


@pytest.mark.parametrize("channel", ["events", "webhook"])
def test_every_example_in_the_document_matches_its_own_schema(document, channel):
    schemas = Schemas(document, channel)
    examples = [
        example["payload"]
        for message in channel_messages(document, channel).values()
        for example in message.get("examples", [])
    ]

    assert examples
    assert {str(p): schemas.errors(p) for p in examples if schemas.errors(p)} == {}


def test_webhooks_carry_the_socket_event_schemas(document):
    socket = channel_messages(document, "events")
    webhook = channel_messages(document, "webhook")

    shared = {name: message["payload"] for name, message in webhook.items() if name != "ping"}

    assert shared == {name: socket[name]["payload"] for name in shared}
    # A notification goes to its recipient's sockets only, never to a webhook.
    only_on_sockets = {"connection.ready", "pong", "error", "notification.created"}
    assert set(shared) == set(socket) - CLIENT_MESSAGES - only_on_sockets
    assert webhook["ping"]["payload"] == {"$ref": "#/components/schemas/WebhookPingEvent"}
