from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "apps.inbox"
    verbose_name = "Messages des habitants"

    def ready(self):
        from apps.ai import registry
        from apps.assistant import running

        from . import drafting, tasks  # noqa: F401 - registers the job kinds

        registry.register("reply", templates=("reply",))
        running.register_handler("reply", drafting.draft_reply)
