"""The whole path with real processes: the server, Celery workers on Redis, a receiver.

A task created over HTTP reaches the receiver signed, through a worker process; a receiver
that fails is retried with the same `webhook-id`; a worker killed mid-delivery loses nothing;
two workers deliver many events in order, never two at once to one webhook.
"""

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.support.server import Server, request, require_services
from tests.support.worker import Worker, add_webhook, create_task, owner_with_project, worker_env
from webhooks.models import Webhook

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def processes(tmp_path):
    require_services()
    started = []

    def server(**overrides):
        made = Server("server", tmp_path, worker_env(**overrides))
        started.append(made)
        made.wait_until_live()
        return made

    def worker(name="worker", beat=True, concurrency=2, **overrides):
        made = Worker(
            tmp_path, worker_env(**overrides), name=name, beat=beat, concurrency=concurrency
        )
        started.append(made)
        return made

    yield server, worker
    for process in started:
        process.kill() if isinstance(process, Worker) else process.stop()


def test_a_task_reaches_the_receiver_signed_and_retried_with_one_id(processes, receiver):
    start_server, start_worker = processes
    server = start_server()
    worker = start_worker()
    target = receiver(statuses=[500, 502, 200])
    token, project_id = owner_with_project(server)
    hook = add_webhook(server, token, project_id, target.url)
    task = create_task(server, token, project_id, "Ship it")

    requests = target.wait_for(3, timeout=30)
    assert {one.headers["webhook-id"] for one in requests} == {requests[0].headers["webhook-id"]}
    for one in requests:
        event = Verifier(hook["secret"]).verify(one.body.decode(), one.headers)
        assert event["type"] == "task.created" and event["data"]["id"] == task["id"]

    url = f"{server.http}/api/v1/projects/{project_id}/webhooks/{hook['id']}/deliveries/"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _, log = request("GET", url, token=token)
        if log["results"][0]["status"] == "succeeded":
            break
        time.sleep(0.2)
    (delivery,) = log["results"]
    assert delivery["status"] == "succeeded", worker.logs()
    assert delivery["attempts"] == 3 and delivery["response_status"] == 200
    assert delivery["event_id"] == requests[0].headers["webhook-id"]


def test_a_worker_killed_mid_delivery_loses_nothing(processes, receiver):
    start_server, start_worker = processes
    server = start_server()
    first = start_worker("first")
    target = receiver(delay=3)  # the first request hangs until the worker is dead
    token, project_id = owner_with_project(server)
    hook = add_webhook(server, token, project_id, target.url)
    create_task(server, token, project_id, "Survives a crash")

    (in_flight,) = target.wait_for(1, timeout=20)
    target.delay = 0
    first.kill()  # SIGKILL, mid-request: no bookkeeping, the lease stays taken

    start_worker("second")
    requests = target.wait_for(2, timeout=40)  # once the dead worker's lease has run out
    again = requests[1]
    assert again.headers["webhook-id"] == in_flight.headers["webhook-id"]
    assert Verifier(hook["secret"]).verify(again.body.decode(), again.headers)["type"] == (
        "task.created"
    )


def test_two_workers_deliver_in_order_one_request_at_a_time(processes, receiver):
    start_server, start_worker = processes
    server = start_server()
    start_worker("one")
    start_worker("two", beat=False)
    targets = [receiver(delay=0.02), receiver(delay=0.02)]
    token, project_id = owner_with_project(server)
    for target in targets:
        add_webhook(server, token, project_id, target.url)
    titles = [f"task {n}" for n in range(15)]
    for title in titles:
        create_task(server, token, project_id, title)

    for target in targets:
        requests = target.wait_for(len(titles), timeout=40)
        assert [json.loads(one.body)["data"]["title"] for one in requests] == titles
        assert target.max_in_flight == 1


def test_a_commit_whose_wake_up_is_lost_is_delivered_by_the_sweep(processes, receiver):
    """The web process commits and never tells a worker (as if it stopped right after the
    commit): the worker's periodic sweep finds the delivery in the outbox."""
    start_server, start_worker = processes
    server = start_server(WEBHOOKS_WAKE_WORKER="0")
    start_worker()
    target = receiver()
    token, project_id = owner_with_project(server)
    hook = add_webhook(server, token, project_id, target.url)
    task = create_task(server, token, project_id, "Committed, never announced")

    (delivered,) = target.wait_for(1, timeout=20)
    event = Verifier(hook["secret"]).verify(delivered.body.decode(), delivered.headers)
    assert event["data"]["id"] == task["id"]


# The Procfile's worker runs with --concurrency 2, `make run`'s with 1.
@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_trickling_receiver_does_not_hold_up_another_projects_deliveries(
    processes, receiver, trickler, concurrency
):
    """Three webhooks of one project point at a receiver that trickles a header line every
    0.5 s (20 s per request if nobody cuts it off). Another project's event, committed while
    they are in flight, arrives within one timeout (plus slack for a loaded machine)."""
    timeout = 2
    start_server, start_worker = processes
    server = start_server()
    worker = start_worker(concurrency=concurrency, WEBHOOKS_TIMEOUT=str(timeout))
    hostile = trickler(interval=0.5, lines=40)
    attacker, attacker_project = owner_with_project(server)
    for _ in range(3):
        add_webhook(server, attacker, attacker_project, hostile.url)
    create_task(server, attacker, attacker_project, "Hold everyone up")
    hostile.wait_for_connection()

    honest = receiver()
    tenant, tenant_project = owner_with_project(server)
    add_webhook(server, tenant, tenant_project, honest.url)
    create_task(server, tenant, tenant_project, "Business as usual")
    committed = time.monotonic()
    (delivered,) = honest.wait_for(1, timeout=120)
    delay = delivered.at - committed
    print(f"\nanother project's delay, worker --concurrency {concurrency}: {delay:.1f} s")
    assert delay < timeout + 3, (delay, worker.logs()[-3000:])


def test_a_deleted_projects_webhook_gets_project_deleted_once_and_is_gone(processes, receiver):
    """A receiver that always fails: before the delete, its event is retried again and again;
    the project's deletion replaces that with one attempt at `project.deleted`, and then the
    webhook is gone: nothing more arrives."""
    start_server, start_worker = processes
    server = start_server()
    start_worker()
    target = receiver(statuses=[500])
    token, project_id = owner_with_project(server)
    status, hook = request(
        "POST",
        f"{server.http}/api/v1/projects/{project_id}/webhooks/",
        {"url": target.url, "events": ["*"]},
        token,
    )
    assert status == 201, hook
    create_task(server, token, project_id, "Retried until the project goes")
    target.wait_for(2, timeout=30)  # retried

    status, _ = request("DELETE", f"{server.http}/api/v1/projects/{project_id}/", token=token)
    assert status == 204
    deadline = time.monotonic() + 30
    while Webhook.objects.filter(pk=hook["id"]).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Webhook.objects.filter(pk=hook["id"]).exists()
    time.sleep(2)  # retries came every 0.5 s at most: none may follow
    types = [json.loads(one.body)["type"] for one in target.requests]
    assert types[-1] == "project.deleted" and types.count("project.deleted") == 1, types
    assert set(types[:-1]) == {"task.created"}
