from django.apps import AppConfig
from django.db.models.signals import post_save


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = "Tasks"

    def ready(self):
        from projects.models import Project  # noqa: PLC0415 - models are ready only now
        from tasks import counts  # noqa: PLC0415
        from tasks.models import Task  # noqa: PLC0415

        # Safety nets for rows saved outside the services (settings.EVENT_SINKS names them).
        post_save.connect(counts.task_saved, sender=Task, dispatch_uid="tasks.counts")
        post_save.connect(counts.project_saved, sender=Project, dispatch_uid="tasks.counts.p")
