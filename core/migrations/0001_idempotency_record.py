"""IdempotencyRecord moves from accounts to core: the same table, only Django's state moves."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0002_idempotency"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("response_body", models.TextField(blank=True)),
                        ("response_headers", models.JSONField(blank=True, default=dict)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_idempotencyrecord",
                        "indexes": [
                            models.Index(fields=["created_at"], name="accounts_idempotency_created")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "key"), name="accounts_idempotency_user_key"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
