"""Delivery, in process: a real receiver on loopback, the worker's own functions.

The worker process itself (Celery, Redis, being killed) is tested in test_worker_process.py.
"""

import json
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connections, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from tasks.services import task_create, task_edit
from tests.factories import ProjectFactory
from webhooks import sender, worker
from webhooks.models import Delivery, DeliveryStatus, Webhook, WebhookEvent
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast(local_targets):
    local_targets.WEBHOOKS_RETRY_BASE = 0.05
    local_targets.WEBHOOKS_RETRY_MAX = 0.2
    local_targets.WEBHOOKS_TIMEOUT = 2
    return local_targets


def hook_for(team, url, events=("*",)) -> Webhook:
    return webhook_create(
        project=team.project, actor=team.owner, data={"url": url, "events": list(events)}
    )


def new_task(team, title="Write the launch post", **data):
    return task_create(actor=team.owner, data={"project": team.project, "title": title, **data})


def drain(webhook: Webhook, until: float = 5) -> None:
    """Run the worker on the webhook's queue until nothing is pending (or `until` s)."""
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        worker.deliver_queue(webhook.pk)
        webhook.refresh_from_db()
        pending = Delivery.objects.filter(webhook=webhook, status=DeliveryStatus.PENDING)
        if not webhook.is_active or not pending.exists():
            return
        time.sleep(0.05)


def test_a_delivery_is_a_signed_standard_webhook(team, fast, receiver):
    target = receiver()
    hook = hook_for(team, target.url)
    task = new_task(team)
    drain(hook)

    (request,) = target.requests
    body = request.body.decode()
    event = Verifier(hook.secret).verify(body, request.headers)  # raises if the signature is bad
    assert event["type"] == "task.created"
    assert event["project_id"] == team.project.pk and event["actor_id"] == team.owner.pk
    assert event["data"]["id"] == task.pk and "is_overdue" not in event["data"]
    assert set(event) == {"type", "project_id", "actor_id", "occurred_at", "data"}
    stored = WebhookEvent.objects.get()
    assert body == stored.body and request.headers["webhook-id"] == stored.id
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Tasklane-Webhooks/")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30
    assert not {"cookie", "authorization", "x-forwarded-for"} & set(request.headers)

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    assert delivery.response_status == 200 and delivery.response_body == "ok"
    assert delivery.duration_ms is not None and delivery.next_attempt_at is None


def test_a_rotated_out_secret_still_verifies_for_a_day(team, fast, receiver, client_for):
    """After a rotation each delivery carries two signatures (`v1,<new> v1,<old>`) for 24
    hours, so a receiver that still holds the old secret keeps verifying; then only the new."""
    target = receiver()
    owner = client_for(team.owner)
    url = f"/api/v1/projects/{team.project.pk}/webhooks/"
    created = owner.post(url, {"url": target.url, "events": ["*"]}, format="json").json()
    rotated = owner.post(f"{url}{created['id']}/rotate-secret/").json()
    old, new = created["secret"], rotated["secret"]
    hook = Webhook.objects.get(pk=created["id"])

    new_task(team, "within the day")
    drain(hook)
    (during,) = target.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Verifier(secret).verify(during.body.decode(), during.headers)["type"] == (
            "task.created"
        )

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        new_task(team, "a day later")
        drain(hook)
        after = target.requests[1]
        assert len(after.headers["webhook-signature"].split(" ")) == 1
        assert Verifier(new).verify(after.body.decode(), after.headers)
        with pytest.raises(WebhookVerificationError):
            Verifier(old).verify(after.body.decode(), after.headers)


def test_a_wrong_secret_does_not_verify(team, fast, receiver):
    target = receiver()
    hook_for(team, target.url)
    new_task(team)
    drain(Webhook.objects.get())
    (request,) = target.requests
    other = Verifier("whsec_" + "A" * 43 + "=")
    with pytest.raises(Exception, match="signature"):
        other.verify(request.body.decode(), request.headers)


def test_failing_twice_then_succeeding_sends_one_event_three_times_in_order(team, fast, receiver):
    target = receiver(statuses=[500, 503, 200])
    hook = hook_for(team, target.url)
    first = new_task(team, "first")
    second = new_task(team, "second")
    drain(hook)

    requests = target.requests
    assert len(requests) == 4
    ids = [request.headers["webhook-id"] for request in requests]
    assert ids[0] == ids[1] == ids[2] != ids[3]
    titles = [json.loads(request.body)["data"]["title"] for request in requests]
    assert titles == ["first", "first", "first", "second"]
    for request in requests:  # every attempt is signed afresh, and verifies
        Verifier(hook.secret).verify(request.body.decode(), request.headers)
    first_delivery, second_delivery = Delivery.objects.order_by("id")
    assert first_delivery.attempts == 3 and first_delivery.status == DeliveryStatus.SUCCEEDED
    assert second_delivery.attempts == 1
    assert json.loads(requests[3].body)["data"]["id"] == second.pk != first.pk


def test_a_failure_waits_with_backoff_before_the_next_attempt(team, fast, receiver):
    fast.WEBHOOKS_RETRY_BASE = 60
    fast.WEBHOOKS_RETRY_MAX = 3600
    target = receiver(statuses=[500])
    hook = hook_for(team, target.url)
    new_task(team, "first")
    new_task(team, "second")

    made, next_in = worker.deliver_queue(hook.pk)
    assert made == 1 and 60 <= next_in <= 75  # base delay plus at most 25 % jitter
    assert worker.deliver_queue(hook.pk) == (0, pytest.approx(next_in, abs=1))
    assert len(target.requests) == 1  # the second event waits behind the first
    delivery = Delivery.objects.order_by("id").first()
    assert delivery.status == DeliveryStatus.PENDING and delivery.response_status == 500
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=55)


def test_backoff_grows_exponentially_with_a_cap(settings):
    settings.WEBHOOKS_RETRY_BASE = 10
    settings.WEBHOOKS_RETRY_MAX = 6 * 3600
    delays = [worker.retry_delay(n) for n in range(1, 16)]
    assert 10 <= delays[0] <= 12.5 and 20 <= delays[1] <= 25
    assert all(6 * 3600 <= delay <= 6 * 3600 * 1.25 for delay in delays[12:])
    # With the defaults, retries span about a day before a delivery is given up.
    total = sum(min(10 * 2 ** (n - 1), 6 * 3600) for n in range(1, 16))
    assert 20 * 3600 < total < 48 * 3600


def test_after_the_retry_window_the_delivery_fails_and_the_next_goes(team, fast, receiver):
    fast.WEBHOOKS_RETRY_WINDOW = 0.3
    target = receiver(statuses=[500, 500, 500, 500, 500, 500, 500, 500, 204])
    hook = hook_for(team, target.url)
    new_task(team, "first")
    new_task(team, "second")
    drain(hook)
    first, second = Delivery.objects.order_by("id")
    assert first.status == DeliveryStatus.FAILED and first.next_attempt_at is None
    assert first.attempts >= 2
    assert second.status in {DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED}
    assert json.loads(target.requests[-1].body)["data"]["title"] == "second"


def test_persistent_failure_disables_the_webhook(team, fast, receiver, client_for):
    fast.WEBHOOKS_DISABLE_AFTER = 3
    fast.WEBHOOKS_RETRY_WINDOW = 0  # each delivery fails at its first failed attempt
    target = receiver(statuses=[500])
    hook = hook_for(team, target.url)
    new_task(team, "one")
    new_task(team, "two")
    drain(hook)
    hook.refresh_from_db()
    assert hook.is_active and hook.consecutive_failures == 2
    new_task(team, "three")
    drain(hook)
    hook.refresh_from_db()
    assert hook.is_active is False
    assert "3 failed deliveries in a row" in hook.disabled_reason
    assert "HTTP 500" in hook.disabled_reason
    assert len(target.requests) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    shown = client_for(team.admin).get(f"/api/v1/projects/{team.project.pk}/webhooks/{hook.pk}/")
    assert shown.json()["is_active"] is False
    assert shown.json()["disabled_reason"] == hook.disabled_reason
    # Switched off: nothing more is sent, and new events are not queued for it.
    new_task(team)
    assert worker.deliver_queue(hook.pk) == (0, None)
    assert len(target.requests) == 3
    assert Delivery.objects.count() == 3


def test_failed_attempts_of_one_delivery_do_not_disable_the_webhook(team, fast, receiver):
    """The count is of failed deliveries, not attempts: retries within the window are not
    failures yet."""
    fast.WEBHOOKS_DISABLE_AFTER = 3
    target = receiver(statuses=[500, 500, 500, 500, 500, 204])
    hook = hook_for(team, target.url)
    new_task(team)
    drain(hook)
    hook.refresh_from_db()
    assert hook.is_active and hook.consecutive_failures == 0 and hook.disabled_reason == ""
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 6


def test_a_success_resets_the_failure_count(team, fast, receiver):
    fast.WEBHOOKS_DISABLE_AFTER = 3
    fast.WEBHOOKS_RETRY_WINDOW = 0
    target = receiver(statuses=[500, 500, 204, 500, 500, 204])
    hook = hook_for(team, target.url)
    for n in range(6):
        new_task(team, f"task {n}")
    drain(hook)
    hook.refresh_from_db()
    assert hook.is_active and hook.consecutive_failures == 0
    assert len(target.requests) == 6
    statuses = list(Delivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses.count(DeliveryStatus.FAILED) == 4


def test_redirects_are_not_followed(team, fast, receiver):
    elsewhere = receiver()
    target = receiver(statuses=[302], location=elsewhere.url)
    hook = hook_for(team, target.url)
    new_task(team)
    worker.deliver_queue(hook.pk)
    assert len(target.requests) == 1 and elsewhere.requests == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.response_status == 302


def test_a_slow_receiver_is_cut_off_at_the_timeout(team, fast, receiver):
    fast.WEBHOOKS_TIMEOUT = 0.3
    target = receiver(delay=3)
    hook = hook_for(team, target.url)
    new_task(team)
    started = time.monotonic()
    worker.deliver_queue(hook.pk)
    assert time.monotonic() - started < 2
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "Timed out" in delivery.error


def test_a_trickling_receiver_is_cut_off_at_the_timeout(team, fast, trickler):
    """A header line every 0.2 s never trips a per-read timeout; the attempt's deadline
    ends it anyway, long before the 10 s the receiver would take."""
    fast.WEBHOOKS_TIMEOUT = 1
    hostile = trickler(interval=0.2, lines=50)
    hook = hook_for(team, hostile.url)
    new_task(team)
    started = time.monotonic()
    worker.deliver_queue(hook.pk)
    assert time.monotonic() - started < fast.WEBHOOKS_TIMEOUT + sender.OVERRUN
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "Timed out" in delivery.error


def test_the_lease_covers_every_attempt_of_a_long_turn(team, fast, receiver, monkeypatch):
    """Renewed before each attempt: however many attempts a turn makes, each starts with
    the lease running past its deadline, so no second worker can take the queue meanwhile."""
    short = fast.WEBHOOKS_TIMEOUT + sender.OVERRUN  # a lease as short as it may be
    monkeypatch.setattr(worker, "lease_seconds", lambda: short)
    target = receiver(delay=0.6)
    hook = hook_for(team, target.url)
    for n in range(3):
        new_task(team, f"task {n}")
    real_send = sender.send
    margins = []

    def send(**kwargs):
        lease_until = Webhook.objects.get(pk=hook.pk).lease_until
        margins.append((lease_until - timezone.now()).total_seconds())
        return real_send(**kwargs)

    monkeypatch.setattr(sender, "send", send)
    assert worker.deliver_queue(hook.pk)[0] == 3
    assert len(margins) == 3
    assert min(margins) >= fast.WEBHOOKS_TIMEOUT, margins


def test_the_lease_outlasts_the_longest_attempt(settings):
    for timeout in (1, 10, 60):
        settings.WEBHOOKS_TIMEOUT = timeout
        assert worker.lease_seconds() >= timeout + sender.OVERRUN + 10


def test_queues_are_chosen_fairly_between_projects(team, fast, receiver):
    """A project with a queue in flight goes after one with none; a queue retrying a failure
    after a fresh one; then the longest waiting first."""
    target = receiver()
    busy, waiting = hook_for(team, target.url), hook_for(team, target.url)
    other = ProjectFactory()
    elsewhere = webhook_create(
        project=other, actor=other.owner, data={"url": target.url, "events": ["*"]}
    )
    retrying_project = ProjectFactory()
    retrying = webhook_create(
        project=retrying_project,
        actor=retrying_project.owner,
        data={"url": target.url, "events": ["*"]},
    )
    new_task(team)
    task_create(actor=retrying_project.owner, data={"project": retrying_project, "title": "r"})
    task_create(actor=other.owner, data={"project": other, "title": "latest"})
    Delivery.objects.filter(webhook=retrying).update(attempts=3)
    worker.claim(busy.pk)  # its project has a queue in flight

    assert worker.due_webhook_ids() == [elsewhere.pk, retrying.pk, waiting.pk]
    assert worker.due_webhook_ids(exclude=[elsewhere.pk]) == [retrying.pk, waiting.pk]


def test_a_queue_whose_head_waits_for_its_retry_is_not_due(team, fast, receiver):
    fast.WEBHOOKS_RETRY_BASE = 60
    target = receiver(statuses=[500, 200])
    hook = hook_for(team, target.url)
    new_task(team, "fails")
    worker.deliver_queue(hook.pk)
    new_task(team, "waits behind it")  # due now, but not the head
    assert worker.due_webhook_ids() == []


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_delivers_other_queues_beside_a_slow_one(team, fast, receiver, trickler):
    """worker.run, as the Celery task runs it: a trickling receiver holds one thread; another
    project's event goes out at once beside it, and the run ends when only retries wait."""
    fast.WEBHOOKS_RETRY_BASE = 60
    fast.WEBHOOKS_RETRY_MAX = 3600
    hostile = trickler(interval=0.2, lines=100)
    hook_for(team, hostile.url)
    new_task(team, "cut off at the timeout")
    new_task(team, "waits behind it")
    other = ProjectFactory()
    honest = receiver()
    webhook_create(project=other, actor=other.owner, data={"url": honest.url, "events": ["*"]})
    task_create(actor=other.owner, data={"project": other, "title": "on time"})

    result = []

    def run():
        try:
            result.append(worker.run(slots=2))
        finally:
            connections.close_all()

    started = time.monotonic()
    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=fast.WEBHOOKS_TIMEOUT + 10)
    assert not runner.is_alive(), "the run did not end while only a retry was waiting"
    assert time.monotonic() - started < fast.WEBHOOKS_TIMEOUT + 3
    (delivered,) = honest.requests
    assert delivered.at - started < 1.5  # beside the slow one, not after it
    (next_in,) = result
    assert 55 <= next_in <= 76  # the slow queue's retry


@pytest.mark.django_db(transaction=True)
def test_a_run_ends_after_its_time_and_says_more_is_due(team, fast, trickler, monkeypatch):
    """A worker kept busy for ever still ends its run (so the purge and a stopping worker
    get their turn): it starts no queue after RUN_FOR, finishes those in flight, and says
    more is due."""
    monkeypatch.setattr(worker, "RUN_FOR", 0.5)
    fast.WEBHOOKS_TIMEOUT = 1
    hostile = trickler(interval=0.2, lines=100)
    hook_for(team, hostile.url)
    hook_for(team, hostile.url)
    new_task(team)
    started = time.monotonic()
    try:
        assert worker.run(slots=1) == 0.0  # the second queue is still due
    finally:
        connections.close_all()
    assert time.monotonic() - started < 0.5 + fast.WEBHOOKS_TIMEOUT + 2
    assert len(hostile.connections) == 1


def test_a_refused_connection_is_retried(team, fast):
    hook = hook_for(team, "http://127.0.0.1:9/hook")  # nothing listens on the discard port
    new_task(team)
    worker.deliver_queue(hook.pk)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.response_status is None and "Connect" in delivery.error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_targets_are_refused_again_at_delivery(team, fast, receiver, host):
    target = receiver()
    hook = hook_for(team, target.url.replace("127.0.0.1", host))
    fast.WEBHOOKS_ALLOW_PRIVATE = False  # e.g. a name that now resolves to loopback
    new_task(team)
    worker.deliver_queue(hook.pk)
    assert target.requests == []
    delivery = Delivery.objects.get()
    assert "not a public address" in delivery.error and delivery.response_status is None


@pytest.mark.parametrize(
    "address", ["64:ff9b::7f00:1", "2002:7f00:1::1", "::127.0.0.1", "::ffff:0:a00:1"]
)
def test_ipv6_forms_embedding_a_private_address_are_refused_at_delivery(
    team, fast, receiver, monkeypatch, address
):
    """A name that resolves, at delivery, to an IPv6 form of a private IPv4 address."""
    target = receiver()
    hook = hook_for(team, target.url.replace("127.0.0.1", "hooks.example.com"))
    monkeypatch.setattr(worker.sender.targets, "resolve", lambda target, timeout: [address])
    fast.WEBHOOKS_ALLOW_PRIVATE = False
    new_task(team)
    worker.deliver_queue(hook.pk)
    delivery = Delivery.objects.get()
    assert f"resolves to {address}, which is not a public address" in delivery.error
    assert target.requests == [] and delivery.response_status is None


def test_one_worker_at_a_time_per_webhook(team, fast, receiver):
    target = receiver()
    hook = hook_for(team, target.url)
    new_task(team)
    token = worker.claim(hook.pk)
    assert token is not None
    assert worker.claim(hook.pk) is None
    assert worker.deliver_queue(hook.pk) == (0, None)  # another worker holds the queue
    assert target.requests == []
    worker.release(hook.pk, token)
    assert worker.deliver_queue(hook.pk)[0] == 1


def test_a_dead_workers_lease_runs_out_and_the_event_is_sent_again(team, fast, receiver):
    target = receiver()
    hook = hook_for(team, target.url)
    new_task(team)
    assert worker.claim(hook.pk) is not None  # a worker took the queue, then died
    assert worker.deliver_queue(hook.pk) == (0, None)
    Webhook.objects.filter(pk=hook.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert worker.due_webhook_ids() == [hook.pk]
    assert worker.deliver_queue(hook.pk)[0] == 1
    assert len(target.requests) == 1


def test_an_attempt_that_outlived_its_lease_records_nothing(team, fast, receiver):
    target = receiver()
    hook = hook_for(team, target.url)
    new_task(team)
    delivery = worker.head(hook.pk)
    worker.claim(hook.pk)
    assert worker.attempt(delivery, token="not-the-holder") is None
    delivery.refresh_from_db()
    assert delivery.attempts == 0 and delivery.status == DeliveryStatus.PENDING


def test_the_sweep_finds_due_queues_only(team, fast, receiver):
    target = receiver()
    due = hook_for(team, target.url)
    later = hook_for(team, target.url)
    idle = hook_for(team, target.url, events=["member.added"])
    new_task(team)
    Delivery.objects.filter(webhook=later).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert worker.due_webhook_ids() == [due.pk]
    assert idle.pk not in worker.due_webhook_ids()


def test_purge_keeps_pending_and_recent_rows(team, fast, receiver):
    target = receiver()
    hook = hook_for(team, target.url)
    new_task(team)
    drain(hook)
    new_task(team)  # pending
    Delivery.objects.update(created_at=timezone.now() - timedelta(days=40))
    WebhookEvent.objects.update(created_at=timezone.now() - timedelta(days=40))
    worker.purge(older_than=timedelta(days=30))
    assert list(Delivery.objects.values_list("status", flat=True)) == [DeliveryStatus.PENDING]
    assert WebhookEvent.objects.count() == 1


def test_a_rolled_back_write_queues_nothing(team, fast, receiver):
    target = receiver()
    hook = hook_for(team, target.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        new_task(team)
        assert Delivery.objects.count() == 1  # queued inside the transaction...
        raise RuntimeError("the write fails after its event")
    assert Delivery.objects.count() == 0 and WebhookEvent.objects.count() == 0  # ...and gone
    worker.deliver_queue(hook.pk)
    assert target.requests == []


def test_events_are_filtered_per_webhook(team, fast, receiver):
    target = receiver()
    created_only = hook_for(team, target.url, events=["task.created"])
    assigned = hook_for(team, target.url, events=["task.assigned"])
    everything = hook_for(team, target.url, events=["*"])
    inactive = hook_for(team, target.url, events=["*"])
    Webhook.objects.filter(pk=inactive.pk).update(is_active=False)

    task = new_task(team)
    task_edit(task=task, actor=team.owner, data={"assignee": team.member})

    def types(hook):
        return list(
            Delivery.objects.filter(webhook=hook)
            .order_by("id")
            .values_list("event__type", flat=True)
        )

    assert types(created_only) == ["task.created"]
    assert types(assigned) == ["task.assigned"]
    assert types(everything) == ["task.created", "task.updated"]
    assert types(inactive) == []


def test_project_and_member_events_are_delivered(team, fast, receiver, client_for):
    target = receiver()
    hook = hook_for(team, target.url)
    owner = client_for(team.owner)
    owner.patch(f"/api/v1/projects/{team.project.pk}/", {"name": "Renamed"}, format="json")
    owner.patch(
        f"/api/v1/projects/{team.project.pk}/members/{team.member.pk}/",
        {"role": "admin"},
        format="json",
    )
    owner.delete(f"/api/v1/projects/{team.project.pk}/members/{team.other_member.pk}/")
    drain(hook)
    types = [json.loads(request.body)["type"] for request in target.requests]
    assert types == ["project.updated", "member.updated", "member.removed"]


def test_a_deleted_projects_webhooks_get_project_deleted_once_then_go(
    team, fast, receiver, client_for
):
    """Through the API: each webhook that wants `project.deleted` gets it once, instead of
    what was still pending, and is then deleted, even when its receiver fails; the others go
    with the project. Nothing is left retrying where nobody can see or stop it."""
    failing = receiver(statuses=[500])
    hook = hook_for(team, failing.url)  # ["*"]
    named = hook_for(team, failing.url, events=["project.deleted"])
    unsubscribed = hook_for(team, failing.url, events=["task.created"])
    switched_off = hook_for(team, failing.url)
    Webhook.objects.filter(pk=switched_off.pk).update(is_active=False)
    new_task(team, "still being retried")
    worker.deliver_queue(hook.pk)  # failed once: pending, waiting for its retry
    assert len(failing.requests) == 1

    response = client_for(team.owner).delete(f"/api/v1/projects/{team.project.pk}/")
    assert response.status_code == 204
    assert set(Webhook.objects.values_list("pk", flat=True)) == {hook.pk, named.pk}
    assert not Webhook.objects.filter(pk__in=[unsubscribed.pk, switched_off.pk]).exists()
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    assert sorted(pending.values_list("event__type", flat=True)) == ["project.deleted"] * 2

    for one in (hook, named):
        worker.deliver_queue(one.pk)
    requests = failing.requests[1:]
    assert len(requests) == 2
    for request in requests:
        event = json.loads(request.body)
        assert event["type"] == "project.deleted" and event["data"] == {"id": team.project.pk}
    assert not Webhook.objects.exists() and not Delivery.objects.exists()
    assert worker.due_webhook_ids() == []


def test_an_attempt_in_flight_when_the_project_goes_is_followed_by_project_deleted(
    team, fast, receiver, client_for
):
    target = receiver(statuses=[500])
    hook = hook_for(team, target.url)
    new_task(team, "in flight")
    delivery = worker.head(hook.pk)
    token = worker.claim(hook.pk)
    response = client_for(team.owner).delete(f"/api/v1/projects/{team.project.pk}/")
    assert response.status_code == 204

    assert worker.attempt(delivery, token) is not None  # the queue goes on...
    worker.release(hook.pk, token)
    worker.deliver_queue(hook.pk)  # ...to project.deleted, its last
    types = [json.loads(request.body)["type"] for request in target.requests]
    assert types == ["task.created", "project.deleted"]
    assert not Webhook.objects.exists()
