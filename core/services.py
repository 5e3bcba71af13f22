"""Helpers for the services of every app."""

from collections.abc import Callable, Iterable

from django.db import models


def model_update(
    instance: models.Model,
    data: dict,
    *,
    also_save: Iterable[str] = (),
    before_save: Callable[[list[str]], None] | None = None,
) -> list[str]:
    """Set the fields of `data` whose value really changes and save only those.

    Saving only the changed fields (with the model's auto_now fields and `also_save`) keeps
    concurrent writes of other fields from overwriting each other. `before_save` sees the
    changed names and may validate or derive fields (listed in `also_save`). Returns the
    changed field names; nothing is saved when there are none.
    """
    changed = [field for field, value in data.items() if getattr(instance, field) != value]
    if not changed:
        return []
    for field in changed:
        setattr(instance, field, data[field])
    if before_save is not None:
        before_save(changed)
    auto_now = [
        field.name for field in instance._meta.concrete_fields if getattr(field, "auto_now", False)
    ]
    instance.save(update_fields=[*changed, *also_save, *auto_now])
    return changed
