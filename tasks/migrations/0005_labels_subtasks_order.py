"""Priority, labels, subtasks and the manual order.

Every existing task gets a `position` after the others of its project, oldest first, as if
each had been created last. On PostgreSQL the column compares by code point (COLLATE "C"):
the keys are ASCII letters and digits, and a language's collation would sort "a" beside "A".
SQLite compares text by code point already.
"""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


def number_positions(apps, schema_editor):
    from fractional_indexing import generate_n_keys_between

    Task = apps.get_model("tasks", "Task")
    project_ids = Task.objects.values_list("project_id", flat=True).distinct()
    for project_id in project_ids.order_by("project_id"):
        ids = list(
            Task.objects.filter(project_id=project_id)
            .order_by("created_at", "id")
            .values_list("id", flat=True)
        )
        keys = generate_n_keys_between(None, None, len(ids))
        Task.objects.bulk_update(
            [Task(id=pk, position=key) for pk, key in zip(ids, keys, strict=True)],
            ["position"],
            batch_size=1000,
        )


def position_by_code_point(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE "tasks_task" ALTER COLUMN "position" TYPE varchar(255) COLLATE "C"'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0004_viewer_role_label_verbs"),
        ("tasks", "0004_ordering_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="subtasks",
                to="tasks.task",
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="position",
            field=models.CharField(default="a0", editable=False, max_length=255),
            preserve_default=False,
        ),
        migrations.RunPython(number_positions, migrations.RunPython.noop),
        migrations.RunPython(position_by_code_point, migrations.RunPython.noop),
        migrations.AddField(
            model_name="task",
            name="priority",
            field=models.CharField(
                choices=[
                    ("none", "None"),
                    ("low", "Low"),
                    ("medium", "Medium"),
                    ("high", "High"),
                    ("urgent", "Urgent"),
                ],
                default="none",
                max_length=6,
            ),
        ),
        migrations.CreateModel(
            name="Label",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50)),
                ("color", models.CharField(default="#6b7280", max_length=7)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="labels",
                        to="projects.project",
                    ),
                ),
            ],
            options={
                "ordering": [django.db.models.functions.text.Lower("name"), "id"],
            },
        ),
        migrations.AddField(
            model_name="task",
            name="labels",
            field=models.ManyToManyField(blank=True, related_name="tasks", to="tasks.label"),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                models.F("project"),
                models.Case(
                    models.When(priority="none", then=models.Value(0)),
                    models.When(priority="low", then=models.Value(1)),
                    models.When(priority="medium", then=models.Value(2)),
                    models.When(priority="high", then=models.Value(3)),
                    models.When(priority="urgent", then=models.Value(4)),
                    output_field=models.IntegerField(),
                ),
                models.F("id"),
                name="tasks_project_priority_rank",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["project", "position", "id"], name="tasks_project_position"),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("priority__in", ["none", "low", "medium", "high", "urgent"])),
                name="tasks_task_priority_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("position", ""), _negated=True), name="tasks_task_position_set"
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("parent", models.F("id")), _negated=True),
                name="tasks_task_not_own_parent",
            ),
        ),
        migrations.AddConstraint(
            model_name="label",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                models.F("project"),
                name="tasks_label_name_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="label",
            constraint=models.CheckConstraint(
                condition=models.Q(("name", ""), _negated=True), name="tasks_label_name_not_empty"
            ),
        ),
    ]
