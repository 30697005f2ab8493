from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "apps.assistant"
    verbose_name = "Assistant"

    def ready(self):
        from . import tasks  # noqa: F401 - registers the job kind
