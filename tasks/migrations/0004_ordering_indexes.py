"""Indexes for `ordering=status` and `ordering=-due_date`: each project's first rows in the
page's order (tasks.listing.page_rows) without sorting every visible task. For a user who
sees 100,000 tasks, 255 ms -> 0.8 ms and 231 ms -> 1.1 ms per page (bench/README.md).

The due-date index is raw SQL on PostgreSQL only, with no model state (as in 0003): SQLite
cannot index `DESC NULLS LAST`, and `ordering=-due_date` puts tasks without a due date last.
"""

from django.db import migrations, models

DUE_DESC = (
    'CREATE INDEX "tasks_project_due_desc" ON "tasks_task" '
    '("project_id", "due_date" DESC NULLS LAST, "id")'
)


def create_due_desc_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DUE_DESC)


def drop_due_desc_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "tasks_project_due_desc"')


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0003_search_trigram"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                models.F("project"),
                models.Case(
                    models.When(status="pending", then=models.Value(0)),
                    models.When(status="in-progress", then=models.Value(1)),
                    models.When(status="completed", then=models.Value(2)),
                    output_field=models.IntegerField(),
                ),
                models.F("id"),
                name="tasks_project_status_rank",
            ),
        ),
        migrations.RunPython(create_due_desc_index, drop_due_desc_index, elidable=False),
    ]
