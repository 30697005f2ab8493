from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "apps.documents"
    verbose_name = "Documents"

    def ready(self):
        from . import tasks  # noqa: F401 - registers the job kinds it defines
