"""The task list's query parameters are documented in one place, tasks.schema.LIST_PARAMETERS.

django-filter would generate a schema of its own for each filter (from its help texts, with
`assignee` an integer and no word of comma lists); the view's list overrides it by name. These
tests keep the view's list the one source: every filter and the ordering has an entry there,
and the served schema shows exactly those entries.
"""

import pytest
from rest_framework.test import APIClient

from tasks.filters import TaskFilterSet, TaskOrdering
from tasks.schema import LIST_PARAMETERS

pytestmark = pytest.mark.django_db
PAGINATION = {"page", "page_size"}


@pytest.fixture(scope="module")
def served(django_db_blocker):
    with django_db_blocker.unblock():
        schema = APIClient().get("/api/schema/?format=json").json()
    parameters = schema["paths"]["/api/v1/tasks/"]["get"]["parameters"]
    return {p["name"]: p for p in parameters if p["name"] not in PAGINATION}


def test_every_filter_and_the_ordering_is_in_the_views_list():
    documented = [parameter.name for parameter in LIST_PARAMETERS]

    assert sorted(documented) == sorted([*TaskFilterSet.base_filters, TaskOrdering.param])


def test_the_served_parameters_are_the_views_list(served):
    assert sorted(served) == sorted(parameter.name for parameter in LIST_PARAMETERS)
    for parameter in LIST_PARAMETERS:
        assert served[parameter.name]["description"] == parameter.description, parameter.name


def test_the_filters_carry_no_schema_text_of_their_own():
    """A help text on a filter would be a second description, shown nowhere."""
    for name, field in TaskFilterSet.base_filters.items():
        assert not field.extra.get("help_text"), name
    assert "get_schema_operation_parameters" not in vars(TaskOrdering)
