"""accounts.selectors.user_by_id: the user every JWT request reads, by plain SQL."""

import pytest
from django.forms.models import model_to_dict

from accounts.models import User
from accounts.selectors import user_by_id
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_by_id_is_the_user_as_the_orm_reads_it():
    user = UserFactory(name="Ada", timezone="Europe/Paris")

    found = user_by_id(user.pk)

    expected = User.objects.get(pk=user.pk)
    assert found == expected
    assert model_to_dict(found) == model_to_dict(expected)
    assert found.password == expected.password and found.date_joined == expected.date_joined
    assert not found._state.adding  # a saved row: save() updates it, never inserts


def test_user_by_id_of_no_user_is_none():
    assert user_by_id(10**12) is None
