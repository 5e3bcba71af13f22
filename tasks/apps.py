from django.apps import AppConfig
from django.db.models.signals import post_save


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = "Tasks"

    def ready(self):
        from projects.models import Project  # noqa: PLC0415 - models are ready only now
        from tasks import counts  # noqa: PLC0415
        from tasks.models import Task  # noqa: PLC0415

        # The list counts must follow the rows however a task is saved (services, admin,
        # factories, the shell), not only through the services; deletes, moves and bulk
        # updates bump explicitly (tasks.services), so that no delete pays for a signal.
        post_save.connect(counts.task_saved, sender=Task, dispatch_uid="tasks.counts")
        # A new project starts with a new version: an id used before (a database restored or
        # recreated while the cache kept its keys) can never bring back another list's count.
        post_save.connect(counts.project_saved, sender=Project, dispatch_uid="tasks.counts.p")
