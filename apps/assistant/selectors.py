"""Reads shared by the pages, the API and the worker: a conversation's history, visible generations."""

from apps.ai.models import Conversation, Generation
from apps.tenants.abilities import can

HISTORY_TURNS = 3


def history(generation: Generation) -> list[dict]:
    """The conversation's previous answered turns, oldest first."""
    if not generation.conversation_id:
        return []
    previous = Generation.objects.filter(
        conversation_id=generation.conversation_id,
        pk__lt=generation.pk,
        outcome__in=[Generation.Outcome.DONE, Generation.Outcome.ABSTAINED],
    ).order_by("-pk")[:HISTORY_TURNS]
    return [{"question": g.input.get("question", ""), "answer": g.output} for g in reversed(previous)]


def _owner(user) -> dict:
    """Requests made with an API key have no user: they share the generations made by API keys."""
    return {"user": user} if user and user.is_authenticated else {"user__isnull": True}


def visible_generations(user, role: str):
    """Administrators see every generation of their authority (the audit log); others their own."""
    queryset = Generation.objects.select_related("user")
    return queryset if can(role, "assistant", "audit") else queryset.filter(**_owner(user))


def conversations_of(user):
    return Conversation.objects.filter(**_owner(user))
