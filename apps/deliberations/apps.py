from django.apps import AppConfig


class DeliberationsConfig(AppConfig):
    name = "apps.deliberations"
    verbose_name = "Délibérations"

    def ready(self):
        from apps.ai import registry
        from apps.assistant.writing import comparands

        from . import tasks  # noqa: F401 - registers the job kinds
        from .similar.comparison import comparand

        comparands.register("deliberations", comparand)  # the assistant's comparison reads deliberations

        # Reading minutes (route named after its template, as before) and choosing a matière.
        registry.register("extraction", route="extract_deliberations", templates=("extract_deliberations",))
        registry.register("matiere", route="deliberation-routing", templates=("matiere",))
