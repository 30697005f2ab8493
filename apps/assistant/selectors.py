"""Reads shared by the pages, the API and the worker: usage and quota, history, visible generations."""

from django.conf import settings
from django.db.models import F, Sum
from django.utils import timezone

from apps.tenants.models import Membership

from .models import Conversation, Generation

HISTORY_TURNS = 3


def month_start():
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def monthly_quota(authority) -> int:
    """0 means no limit."""
    own = (authority.settings or {}).get("assistant", {}).get("monthly_token_quota")
    return int(own) if own is not None else settings.ASSISTANT_MONTHLY_TOKEN_QUOTA


def tokens_used_this_month() -> int:
    """Within the caller's tenant context."""
    total = Generation.objects.filter(created_at__gte=month_start()).aggregate(
        total=Sum(F("prompt_tokens") + F("completion_tokens")))["total"]
    return total or 0


def usage_this_month() -> dict:
    totals = Generation.objects.filter(created_at__gte=month_start()).aggregate(
        prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"), energy=Sum("energy_wh"), co2=Sum("co2_g"))
    return {key: value or 0 for key, value in totals.items()} | {
        "requests": Generation.objects.filter(created_at__gte=month_start()).count()}


def history(generation: Generation) -> list[dict]:
    """The conversation's previous answered turns, oldest first."""
    if not generation.conversation_id:
        return []
    previous = (Generation.objects.filter(conversation_id=generation.conversation_id, pk__lt=generation.pk,
                                          outcome__in=[Generation.Outcome.DONE, Generation.Outcome.ABSTAINED])
                .order_by("-pk")[:HISTORY_TURNS])
    return [{"question": g.input.get("question", ""), "answer": g.output} for g in reversed(previous)]


def _owner(user) -> dict:
    """Requests made with an API key have no user: they share the generations made by API keys."""
    return {"user": user} if user and user.is_authenticated else {"user__isnull": True}


def visible_generations(user, role: str):
    """Administrators see every generation of their authority (the audit log); others their own."""
    queryset = Generation.objects.select_related("user")
    return queryset if role == Membership.Role.ADMINISTRATOR else queryset.filter(**_owner(user))


def conversations_of(user):
    return Conversation.objects.filter(**_owner(user))
