from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects"

    def ready(self):
        from projects import socket_access  # noqa: F401, PLC0415 - connects the socket receivers
