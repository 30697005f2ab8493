from django.apps import AppConfig

# The assistant's model tasks and the prompt templates each uses (apps/ai/prompts/).
MODEL_TASKS = {
    "answer": ("answer",),
    "rewrite": ("rewrite",),  # a follow-up question made standalone, audited with its answer
    "summary": ("summary", "summary_combine"),
    "key_points": ("key_points",),
    "plain_language": ("plain_language",),
    "compare": ("compare",),
    "minutes": ("minutes",),
    "email": ("email",),
    "spelling": ("spelling",),
}


class AssistantConfig(AppConfig):
    name = "apps.assistant"
    verbose_name = "Assistant"

    def ready(self):
        from apps.ai import registry

        from . import tasks  # noqa: F401 - registers the job kind

        for name, templates in MODEL_TASKS.items():
            registry.register(name, templates=templates)
