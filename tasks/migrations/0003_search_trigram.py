"""Trigram indexes for `GET tasks/?search=` on PostgreSQL; nothing on SQLite.

`search` is `title__icontains | description__icontains`, which Django compiles on PostgreSQL
to `UPPER("title"::text) LIKE UPPER('%x%') OR UPPER("description"::text) LIKE ...`. A leading
wildcard defeats a btree, so without these the list reads every visible row and tests the
pattern on each. A GIN index with `gin_trgm_ops` on exactly those expressions serves that
LIKE (three characters or more): PostgreSQL ANDs it with the caller's projects in a bitmap and
visits only matching rows. The expressions must stay identical to what the ORM emits
(`UPPER(col)`, stored as `upper((title)::text)`), or the planner cannot use them;
tests/tasks/test_plans.py checks that it does.

Raw SQL with no model state, on purpose: a `GinIndex` in `Task.Meta.indexes` would be created
on SQLite too, where `USING gin` and the operator class do not exist. The model state
therefore knows nothing of these indexes and `makemigrations --check` stays clean. pg_trgm is
a trusted extension since PostgreSQL 13, so the database owner can create it without
superuser rights. Reversing drops the indexes and leaves the extension (something else may
use it).
"""

from django.db import migrations

INDEXES = {
    "tasks_title_trgm": "title",
    "tasks_description_trgm": "description",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "tasks_task" USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0002_created_index"),
    ]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
