from django.apps import AppConfig


class DeliberationsConfig(AppConfig):
    name = "apps.deliberations"
    verbose_name = "Délibérations"

    def ready(self):
        from . import tasks  # noqa: F401 - registers the job kinds
