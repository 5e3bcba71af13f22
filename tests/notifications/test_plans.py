"""The unread count as PostgreSQL plans it: one statement that reads the partial index of
unread notifications (notifications_unread), never the user's read history, for a user with
100,000 notifications of which 50 are unread.

The request goes through the API client; its one statement on the notifications table is run
again under `EXPLAIN (ANALYZE, FORMAT JSON)`."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql
from tests.support.urls import UNREAD_COUNT

pytestmark = pytest.mark.django_db

HISTORY = 100_000
UNREAD = 50
TABLE = Notification._meta.db_table


@pytest.fixture(autouse=True)
def _postgresql_only():
    require_postgresql()


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.fixture
def reader():
    """A member of two projects with a long, mostly read history (and a neighbour with one
    of their own), the table analyzed as it would be in production."""
    user, neighbour, actor = UserFactory(), UserFactory(), UserFactory()
    projects = [ProjectFactory(owner=actor) for _ in range(2)]
    for project in projects:
        MembershipFactory(project=project, user=user)
        MembershipFactory(project=project, user=neighbour)
    with connection.cursor() as cursor:
        for recipient, rows in ((user, HISTORY), (neighbour, HISTORY // 4)):
            cursor.execute(
                f"""
                INSERT INTO {TABLE} (recipient_id, verb, actor_id, project_id, created_at, read_at)
                SELECT %s, 'assigned', %s,
                       CASE WHEN n %% 2 = 0 THEN %s ELSE %s END,
                       now() - n * interval '1 minute',
                       CASE WHEN n > %s THEN now() END
                FROM generate_series(1, %s) AS n
                """,
                [recipient.pk, actor.pk, projects[0].pk, projects[1].pk, UNREAD, rows],
            )
        cursor.execute(f"ANALYZE {TABLE}")
    return user


def test_unread_count_reads_the_partial_index_not_the_history(reader):
    client = logged_in(reader)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(UNREAD_COUNT)

    assert response.status_code == 200, response.content
    assert response.json() == {"count": UNREAD}
    sqls = [q["sql"] for q in queries.captured_queries if f'"{TABLE}"' in q["sql"]]
    assert len(sqls) == 1, sqls
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sqls[0]}")
        plan = cursor.fetchone()[0]
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    shown = json.dumps(plan, indent=1)
    table_nodes = [node for node in nodes(plan) if node.get("Relation Name") == TABLE]
    assert table_nodes, shown
    assert not any(node["Node Type"] == "Seq Scan" for node in table_nodes), shown
    assert {node.get("Index Name") for node in table_nodes} == {"notifications_unread"}, shown
    read = sum(
        (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
        for node in table_nodes
    )
    assert read <= UNREAD, f"{read} notification rows read for {UNREAD} unread\n{shown}"
