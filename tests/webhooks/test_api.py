"""The webhooks API: who may use it, what it accepts, and the secret shown once."""

import socket
import time

import pytest

from projects.models import Role
from tests.factories import MembershipFactory, ProjectFactory
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.django_db

GOOD = {"url": "https://hooks.example.invalid/tasklane", "events": ["task.created"]}


def hooks_url(project_id) -> str:
    return f"/api/v1/projects/{project_id}/webhooks/"


@pytest.fixture
def owner(client_for, team):
    return client_for(team.owner)


def create(client, project_id, **body):
    return client.post(hooks_url(project_id), {**GOOD, **body}, format="json")


def test_create_shows_the_secret_once(owner, team):
    response = create(owner, team.project.pk, description="  Slack  ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "url",
        "events",
        "description",
        "is_active",
        "disabled_reason",
        "created_at",
        "updated_at",
        "secret",
    }
    assert body["secret"].startswith("whsec_")
    assert body["description"] == "Slack"
    assert body["is_active"] is True and body["disabled_reason"] == ""
    assert body["created_at"].endswith("Z")

    listed = owner.get(hooks_url(team.project.pk)).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    detail = owner.get(f"{hooks_url(team.project.pk)}{body['id']}/").json()
    assert "secret" not in detail


def test_rotating_gives_a_new_secret(owner, team):
    created = create(owner, team.project.pk).json()
    response = owner.post(f"{hooks_url(team.project.pk)}{created['id']}/rotate-secret/")
    assert response.status_code == 200
    assert response.json()["secret"].startswith("whsec_")
    assert response.json()["secret"] != created["secret"]
    assert Webhook.objects.get().secret == response.json()["secret"]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_manage_webhooks(client_for, team, role):
    client = client_for(getattr(team, role))
    created = create(client, team.project.pk)
    assert created.status_code == 201
    url = f"{hooks_url(team.project.pk)}{created.json()['id']}/"
    assert client.get(url).status_code == 200
    assert client.patch(url, {"description": "x"}, format="json").status_code == 200
    assert client.post(f"{url}ping/").status_code == 202
    assert client.get(f"{url}deliveries/").status_code == 200
    assert client.delete(url).status_code == 204


def test_members_and_viewers_get_403_and_strangers_404(client_for, team, owner):
    hook = create(owner, team.project.pk).json()
    url = f"{hooks_url(team.project.pk)}{hook['id']}/"
    delivery = owner.post(f"{url}ping/").json()
    member, stranger = client_for(team.member), client_for(team.stranger)
    viewer = client_for(MembershipFactory(project=team.project, role=Role.VIEWER).user)
    calls = [
        ("get", hooks_url(team.project.pk)),
        ("post", hooks_url(team.project.pk)),
        ("get", url),
        ("patch", url),
        ("delete", url),
        ("post", f"{url}rotate-secret/"),
        ("post", f"{url}ping/"),
        ("get", f"{url}deliveries/"),
        ("post", f"{url}deliveries/{delivery['id']}/redeliver/"),
    ]
    for method, path in calls:
        assert getattr(member, method)(path, GOOD, format="json").status_code == 403, path
        assert getattr(viewer, method)(path, GOOD, format="json").status_code == 403, path
        assert getattr(stranger, method)(path, GOOD, format="json").status_code == 404, path
    assert Webhook.objects.get().description == ""
    assert Delivery.objects.count() == 1


def test_a_webhook_of_another_project_is_404(client_for, team, owner):
    other = ProjectFactory(owner=team.owner)
    hook = create(owner, other.pk).json()
    assert owner.get(f"{hooks_url(team.project.pk)}{hook['id']}/").status_code == 404
    assert owner.get(f"{hooks_url(team.project.pk)}{hook['id']}/deliveries/").status_code == 404


def test_without_a_token_401(api_client, team):
    assert api_client.get(hooks_url(team.project.pk)).status_code == 401


def test_put_is_not_allowed(owner, team):
    hook = create(owner, team.project.pk).json()
    response = owner.put(f"{hooks_url(team.project.pk)}{hook['id']}/", GOOD, format="json")
    assert response.status_code == 405


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://hooks.example.invalid/x", "https"),
        ("ftp://hooks.example.invalid/x", "https"),
        ("https://localhost/x", "not a public address"),
        ("https://127.0.0.1:8000/x", "not a public address"),
        ("https://[::1]/x", "not a public address"),
        ("https://10.1.2.3/x", "not a public address"),
        ("https://192.168.0.10/x", "not a public address"),
        ("https://169.254.169.254/latest/meta-data/", "not a public address"),
        ("https://[::ffff:127.0.0.1]/x", "not a public address"),
        ("https://100.64.0.1/x", "not a public address"),
        ("https://0.0.0.0/x", "not a public address"),
        ("https://user:pass@hooks.example.invalid/x", "user name or password"),
        ("https://hooks.example.invalid/x#frag", "fragment"),
        ("not a url", "https"),
        ("https://", "valid URL"),
        ("https://hooks.example.invalid:99999/x", "valid URL"),
        ("https://a..example/x", "host name is not valid"),
        ("https://" + "a" * 64 + ".example/x", "host name is not valid"),
        ("https://-hooks.example/x", "host name is not valid"),
        ("https://hooks_1.example/x", "host name is not valid"),
        ("https://" + "a." * 127 + "example/x", "host name is not valid"),
    ],
)
def test_unsafe_urls_are_refused(owner, team, url, message):
    response = create(owner, team.project.pk, url=url)
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["attr"] == "url" and message in error["detail"]
    assert not Webhook.objects.exists()


# IPv6 forms that carry an IPv4 address: what they reach is the embedded address.
EMBEDDING_PRIVATE = [
    "64:ff9b::10.0.0.1",  # NAT64, well-known prefix
    "64:ff9b::127.0.0.1",
    "64:ff9b:1::10.0.0.1",  # NAT64, local-use prefix
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "::10.0.0.1",  # IPv4-compatible
    "::169.254.169.254",
    "::ffff:0:10.0.0.1",  # IPv4-translated
    "::ffff:0:127.0.0.1",
]
EMBEDDING_PUBLIC = [
    "64:ff9b::93.184.215.14",
    "2002:5db8:d70e::1",  # 6to4 of 93.184.215.14
    "::93.184.215.14",
    "::ffff:0:93.184.215.14",
]


@pytest.mark.parametrize("address", EMBEDDING_PRIVATE)
def test_ipv6_forms_embedding_a_private_ipv4_address_are_refused(owner, team, address):
    response = create(owner, team.project.pk, url=f"https://[{address}]/hook")
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["attr"] == "url" and "not a public address" in error["detail"]


@pytest.mark.parametrize("address", EMBEDDING_PUBLIC)
def test_ipv6_forms_embedding_a_public_ipv4_address_are_accepted(owner, team, address):
    response = create(owner, team.project.pk, url=f"https://[{address}]/hook")
    assert response.status_code == 201, response.content


def test_the_local_use_nat64_prefix_is_refused_whatever_it_embeds(owner, team):
    """64:ff9b:1::/48 is a network's own translator (RFC 8215), never a public address."""
    response = create(owner, team.project.pk, url="https://[64:ff9b:1::93.184.215.14]/hook")
    assert response.status_code == 400, response.content


def test_a_resolver_that_does_not_answer_in_time_is_a_400_within_a_second(owner, team, monkeypatch):
    """A slow resolver holds the request thread for the creation budget (1 s), not its own
    time, and the answer says so on `url`."""
    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        if host == "slow-dns.example.com":
            time.sleep(3)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    response = create(owner, team.project.pk, url="https://slow-dns.example.com/hook")
    elapsed = time.monotonic() - started
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["attr"] == "url" and "could not be resolved within 1 s" in error["detail"]
    assert elapsed < 2.5, elapsed
    assert not Webhook.objects.exists()


def test_development_settings_admit_http_and_loopback(owner, team, local_targets):
    response = create(owner, team.project.pk, url="http://127.0.0.1:9/hook")
    assert response.status_code == 201, response.content


def test_a_public_address_is_accepted(owner, team):
    assert create(owner, team.project.pk, url="https://93.184.215.14/hook").status_code == 201


@pytest.mark.parametrize(
    "events, status, stored",
    [
        (["task.updated", "task.created", "task.created"], 201, ["task.created", "task.updated"]),
        (["*"], 201, ["*"]),
        (["task.assigned"], 201, ["task.assigned"]),
        ([], 400, None),
        (["task.exploded"], 400, None),
        (["notification.created"], 400, None),  # to its recipient's sockets only
        (["*", "task.created"], 400, None),
        ("task.created", 400, None),
        ([["task.created"]], 400, None),
        (None, 400, None),
    ],
)
def test_events_are_checked(owner, team, events, status, stored):
    response = create(owner, team.project.pk, events=events)
    assert response.status_code == status, response.content
    if stored is not None:
        assert response.json()["events"] == stored
    else:
        assert {error["attr"].split(".")[0] for error in response.json()["errors"]} == {"events"}


def test_required_fields(owner, team):
    response = owner.post(hooks_url(team.project.pk), {}, format="json")
    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"url", "events"}


def test_reenabling_clears_the_reason(owner, team):
    hook = create(owner, team.project.pk).json()
    Webhook.objects.filter(pk=hook["id"]).update(
        is_active=False, disabled_reason="Disabled after 20 failed", consecutive_failures=20
    )
    url = f"{hooks_url(team.project.pk)}{hook['id']}/"
    assert owner.get(url).json()["disabled_reason"] == "Disabled after 20 failed"
    response = owner.patch(url, {"is_active": True}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is True and response.json()["disabled_reason"] == ""
    assert Webhook.objects.get().consecutive_failures == 0


def test_patch_revalidates_the_url(owner, team):
    hook = create(owner, team.project.pk).json()
    url = f"{hooks_url(team.project.pk)}{hook['id']}/"
    response = owner.patch(url, {"url": "https://10.0.0.1/"}, format="json")
    assert response.status_code == 400
    assert Webhook.objects.get().url == GOOD["url"]


def test_a_project_has_a_bounded_number_of_webhooks(owner, team, settings):
    settings.WEBHOOKS_MAX_PER_PROJECT = 2
    assert create(owner, team.project.pk).status_code == 201
    assert create(owner, team.project.pk).status_code == 201
    response = create(owner, team.project.pk)
    assert response.status_code == 400
    assert Webhook.objects.count() == 2


def test_a_user_has_a_bounded_number_of_webhooks_across_projects(owner, team, settings, client_for):
    """The creator's webhooks count, in every project, switched off or not; another admin of
    the same project has their own allowance."""
    settings.WEBHOOKS_MAX_PER_USER = 2
    second = ProjectFactory(owner=team.owner)
    assert create(owner, team.project.pk).status_code == 201
    created = create(owner, second.pk)
    assert created.status_code == 201
    Webhook.objects.filter(pk=created.json()["id"]).update(is_active=False)

    response = create(owner, team.project.pk)
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["attr"] == "url" and "2 webhooks" in error["detail"]
    assert Webhook.objects.count() == 2
    assert create(client_for(team.admin), team.project.pk).status_code == 201


def test_ping_and_redeliver_queue_deliveries(owner, team):
    hook = create(owner, team.project.pk).json()
    url = f"{hooks_url(team.project.pk)}{hook['id']}/"
    ping = owner.post(f"{url}ping/")
    assert ping.status_code == 202
    assert ping.json()["event_type"] == "ping" and ping.json()["status"] == "pending"
    again = owner.post(f"{url}deliveries/{ping.json()['id']}/redeliver/")
    assert again.status_code == 202
    assert again.json()["event_id"] == ping.json()["event_id"]
    assert again.json()["id"] != ping.json()["id"]
    log = owner.get(f"{url}deliveries/").json()
    assert [row["id"] for row in log["results"]] == [again.json()["id"], ping.json()["id"]]
    assert set(log["results"][0]) == {
        "id",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "duration_ms",
        "next_attempt_at",
        "created_at",
    }
    assert owner.post(f"{url}deliveries/999999/redeliver/").status_code == 404


def test_personal_access_tokens_keep_their_scope_and_projects(owner, team):
    from tests.support.personal_tokens import READ, token_client  # noqa: PLC0415

    other = ProjectFactory(owner=team.owner)
    hook = create(owner, other.pk).json()
    limited = token_client(team.owner, project_ids=[team.project.pk])
    assert limited.get(hooks_url(other.pk)).status_code == 404
    assert limited.get(f"{hooks_url(other.pk)}{hook['id']}/").status_code == 404
    assert limited.get(hooks_url(team.project.pk)).status_code == 200
    assert create(limited, team.project.pk).status_code == 201

    reader = token_client(team.owner, scopes=READ)
    assert reader.get(hooks_url(other.pk)).status_code == 200
    assert create(reader, other.pk).status_code == 403
    assert reader.post(f"{hooks_url(other.pk)}{hook['id']}/ping/").status_code == 403
    assert reader.delete(f"{hooks_url(other.pk)}{hook['id']}/").status_code == 403
    assert Webhook.objects.count() == 2


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None, [], {}])
def test_is_active_is_a_json_boolean(owner, team, value):
    hook = create(owner, team.project.pk).json()
    url = f"{hooks_url(team.project.pk)}{hook['id']}/"
    response = owner.patch(url, {"is_active": value}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "is_active"
    assert Webhook.objects.get().is_active is True
    assert create(owner, team.project.pk, is_active=0).status_code == 400


def test_the_schema_states_the_rules_it_can(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    webhook = schema["components"]["schemas"]["Webhook"]["properties"]
    assert webhook["events"]["minItems"] == 1 and webhook["is_active"]["type"] == "boolean"
    for path in [
        "/api/v1/projects/{project_pk}/webhooks/{id}/ping/",
        "/api/v1/projects/{project_pk}/webhooks/{id}/rotate-secret/",
        "/api/v1/projects/{project_pk}/webhooks/{webhook_pk}/deliveries/{id}/redeliver/",
    ]:
        assert "400" in schema["paths"][path]["post"]["responses"], path  # Idempotency-Key


@pytest.mark.parametrize(
    "url", ["https://b\u00fccher.example.invalid/x", "https://hooks.example.invalid./x"]
)
def test_international_and_rooted_host_names_are_accepted(owner, team, url):
    assert create(owner, team.project.pk, url=url).status_code == 201
