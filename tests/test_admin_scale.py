"""The admin at scale (100k tasks, 10k users): every changelist costs the same number of queries
however many rows there are, no filter lists every project, and no change form renders a
select with every user or project."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import PersonalAccessToken, User
from notifications.models import Notification
from projects.models import Activity, Membership, Project, Role, Verb
from tasks.models import Label, Task
from webhooks.models import Delivery, Webhook, WebhookEvent

pytestmark = pytest.mark.django_db

CHANGELISTS = {
    User: ["/admin/accounts/user/", "/admin/accounts/user/?q=scale&is_active__exact=1"],
    Group: ["/admin/auth/group/"],
    Project: ["/admin/projects/project/", "/admin/projects/project/?is_inbox__exact=1&q=inbox"],
    Membership: ["/admin/projects/membership/", "/admin/projects/membership/?role__exact=owner"],
    Activity: ["/admin/projects/activity/", "/admin/projects/activity/?verb__exact=created"],
    Task: [
        "/admin/tasks/task/",
        "/admin/tasks/task/?status__exact=pending&q=task",
        "/admin/tasks/task/?project={project}",
    ],
    Label: ["/admin/tasks/label/", "/admin/tasks/label/?q=scale"],
    OutstandingToken: ["/admin/token_blacklist/outstandingtoken/"],
    PersonalAccessToken: [
        "/admin/accounts/personalaccesstoken/",
        "/admin/accounts/personalaccesstoken/?q=scale",
    ],
    BlacklistedToken: ["/admin/token_blacklist/blacklistedtoken/"],
    Webhook: ["/admin/webhooks/webhook/", "/admin/webhooks/webhook/?is_active__exact=1&q=hooks"],
    Delivery: ["/admin/webhooks/delivery/", "/admin/webhooks/delivery/?status__exact=pending"],
    Notification: [
        "/admin/notifications/notification/",
        "/admin/notifications/notification/?verb__exact=assigned&read_at__isempty=1",
        "/admin/notifications/notification/?q=scale1%40example.com",
    ],
}


def add_rows(count: int) -> None:
    """`count` more rows of every kind, each pointing at different users and projects, so a
    query per row (an owner, an assignee, an actor) shows up in the count."""
    start = User.objects.count()
    now = timezone.now()
    users = User.objects.bulk_create(
        User(email=f"scale{start + i}@example.com", name=f"Scale {i}") for i in range(count)
    )
    inboxes = Project.objects.bulk_create(
        Project(name="Inbox", owner=user, is_inbox=True) for user in users
    )
    projects = Project.objects.bulk_create(
        Project(name=f"Scale project {start + i}", owner=user) for i, user in enumerate(users)
    )
    Membership.objects.bulk_create(
        Membership(project=project, user=project.owner, role=Role.OWNER)
        for project in [*inboxes, *projects]
    )
    Membership.objects.bulk_create(
        Membership(project=project, user=users[i - 1], role=Role.MEMBER)
        for i, project in enumerate(projects)
    )
    Task.objects.bulk_create(
        Task(
            project=project,
            title=f"Scale task {i}",
            assignee=project.owner,
            created_by=users[(i + 1) % count],
            position="a0",  # each the only task of its project
        )
        for i, project in enumerate([*inboxes, *projects])
    )
    Activity.objects.bulk_create(
        Activity(project=project, actor=project.owner, verb=Verb.CREATED, task_id=i)
        for i, project in enumerate([*inboxes, *projects])
    )
    tokens = OutstandingToken.objects.bulk_create(
        OutstandingToken(
            user=user,
            jti=f"scale-{start + i}",
            token=f"token-{start + i}",
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
        for i, user in enumerate(users)
    )
    BlacklistedToken.objects.bulk_create(BlacklistedToken(token=token) for token in tokens)
    PersonalAccessToken.objects.bulk_create(
        PersonalAccessToken(
            user=user,
            name=f"Scale token {start + i}",
            scopes=["read"],
            project_ids=[projects[i].pk],
            token_hash=f"{start + i:064d}",
            prefix="tl_pat_scal",
            expires_at=now + timedelta(days=1),
        )
        for i, user in enumerate(users)
    )
    Group.objects.bulk_create(Group(name=f"Scale group {start + i}") for i in range(count))
    Label.objects.bulk_create(
        Label(project=project, name=f"Scale label {start + i}")
        for i, project in enumerate(projects)
    )
    hooks = Webhook.objects.bulk_create(
        Webhook(project=project, url=f"https://hooks{i}.example.com/", events=["*"], secret="s")
        for i, project in enumerate(inboxes)
    )
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(id=f"scale-{start + i}", project_id=hook.project_id, type="task.created")
        for i, hook in enumerate(hooks)
    )
    Delivery.objects.bulk_create(
        Delivery(webhook=hook, event=event) for hook, event in zip(hooks, events, strict=True)
    )
    tasks = Task.objects.filter(title__startswith="Scale task").order_by("-id")[: len(projects)]
    Notification.objects.bulk_create(
        Notification(
            recipient=project.owner,
            verb="assigned",
            actor=users[i - 1],
            project=project,
            task=task,
        )
        for i, (project, task) in enumerate(zip(projects, tasks, strict=False))
    )


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:2000]
    return len(captured)


def test_every_registered_model_is_measured():
    assert set(admin.site._registry) == set(CHANGELISTS)


@pytest.mark.parametrize(
    "url", [url for urls in CHANGELISTS.values() for url in urls], ids=lambda url: url[7:]
)
def test_a_changelist_costs_the_same_queries_for_30_rows_as_for_300(admin_client, url):
    add_rows(30)
    url = url.format(project=Project.objects.filter(is_inbox=True).last().pk)
    admin_client.get(url)  # warm up: content types, the session
    few = queries_for(admin_client, url)

    add_rows(270)
    many = queries_for(admin_client, url)

    assert many == few
    assert many <= 12


def test_the_task_list_names_no_project_in_its_filters(admin_client):
    add_rows(30)

    content = admin_client.get("/admin/tasks/task/").content.decode()

    filters = content[content.index('id="changelist-filter"') :]
    assert "Inbox" not in filters
    assert "Scale project" not in filters


@pytest.mark.parametrize("kind", ["task", "project", "membership"])
def test_a_change_form_does_not_list_every_user_or_project(admin_client, kind):
    add_rows(30)
    obj = {
        "task": Task.objects.last,
        "project": Project.objects.filter(is_inbox=False).last,
        "membership": Membership.objects.filter(role=Role.MEMBER).last,
    }[kind]()

    for url in (
        f"/admin/{obj._meta.app_label}/{kind}/{obj.pk}/change/",
        f"/admin/{obj._meta.app_label}/{kind}/add/",
    ):
        content = admin_client.get(url).content.decode()
        options = re.findall(r"<option[^>]*>([^<]*)</option>", content)
        # The chosen owner, assignee, or the rows of the project's own members; not 30 users.
        assert len([text for text in options if "scale" in text.lower()]) < 5, (url, options)
