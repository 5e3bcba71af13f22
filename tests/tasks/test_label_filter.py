"""`GET tasks/?label=`: ids (any of them), `none`, both, repeats; bad values are a 400."""

import pytest

from tasks.models import Label
from tests.factories import ProjectFactory
from tests.support.envelope import assert_error
from tests.support.tasks import list_all_ids, make_task
from tests.support.urls import TASKS

pytestmark = pytest.mark.django_db


class Board:
    def __init__(self, team):
        project = team.project
        self.a = Label.objects.create(project=project, name="a")
        self.b = Label.objects.create(project=project, name="b")
        self.c = Label.objects.create(project=project, name="c")
        self.only_a = make_task(project=project)
        self.only_a.labels.add(self.a)
        self.a_and_b = make_task(project=project)
        self.a_and_b.labels.add(self.a, self.b)
        self.only_b = make_task(project=project)
        self.only_b.labels.add(self.b)
        self.bare = make_task(project=project)
        # Another project's task carrying another project's label: never listed.
        elsewhere = ProjectFactory()
        self.foreign = Label.objects.create(project=elsewhere, name="a")
        make_task(project=elsewhere).labels.add(self.foreign)


@pytest.fixture
def board(team) -> Board:
    return Board(team)


def ids(client, query: str) -> set[int]:
    return set(list_all_ids(client, query))


def test_one_label_lists_the_tasks_carrying_it(member, board):
    assert ids(member, f"label={board.a.id}") == {board.only_a.id, board.a_and_b.id}


def test_a_list_of_labels_lists_tasks_carrying_any_of_them(member, board):
    expected = {board.only_a.id, board.a_and_b.id, board.only_b.id}

    assert ids(member, f"label={board.a.id},{board.b.id}") == expected
    assert list_all_ids(member, f"label={board.a.id},{board.b.id}").count(board.a_and_b.id) == 1


def test_none_lists_the_tasks_without_labels(member, board):
    assert ids(member, "label=none") == {board.bare.id}


def test_none_with_ids_lists_tasks_without_labels_or_with_any_of_them(member, board):
    assert ids(member, f"label=none,{board.b.id}") == {
        board.bare.id,
        board.only_b.id,
        board.a_and_b.id,
    }


def test_repeats_combine_like_the_comma_form(member, board):
    assert ids(member, f"label={board.a.id}&label=none") == ids(member, f"label={board.a.id},none")
    assert ids(member, f"label={board.a.id}&label={board.b.id}") == {
        board.only_a.id,
        board.a_and_b.id,
        board.only_b.id,
    }


def test_a_label_not_of_the_callers_projects_matches_nothing(member, board):
    assert ids(member, f"label={board.foreign.id}") == set()
    assert ids(member, f"label={board.c.id}") == set()  # a label no task carries
    assert ids(member, "label=999999999") == set()


def test_it_combines_with_other_filters_and_counts_right(member, board, team):
    board.only_a.status = "completed"
    board.only_a.completed_at = board.only_a.created_at
    board.only_a.save()

    response = member.get(TASKS, {"label": f"{board.a.id}", "status": "pending"})

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1
    assert [task["id"] for task in response.json()["results"]] == [board.a_and_b.id]


def test_an_empty_value_filters_nothing(member, board):
    assert len(ids(member, "label=")) == 4


@pytest.mark.parametrize(
    "value", ["x", "1,x", "-1", "0", "1.5", "nonee", "1,,2", ",", "99999999999999999999", "a\x00"]
)
def test_an_invalid_value_is_a_400_naming_label(member, board, value):
    assert_error(member.get(TASKS, {"label": value}), 400, attr="label")


def test_more_than_a_hundred_ids_is_a_400(member, board):
    value = ",".join(str(n) for n in range(1, 102))

    assert_error(member.get(TASKS, {"label": value}), 400, attr="label")
    assert member.get(TASKS, {"label": ",".join(str(n) for n in range(1, 101))}).status_code == 200


def test_a_label_that_leaves_a_task_takes_it_out_of_the_filtered_count(client_for, board, team):
    owner, url = client_for(team.owner), f"label={board.b.id}"
    assert len(ids(owner, url)) == 2

    response = owner.delete(f"/api/v1/projects/{team.project.id}/labels/{board.b.id}/")

    assert response.status_code == 204
    first = owner.get(TASKS, {"label": board.b.id})
    assert first.json()["count"] == 0
    assert len(ids(owner, "label=none")) == 2
