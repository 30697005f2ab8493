"""Reads of the model-call platform: an authority's quota and what it used this month (the audit
log is the source of truth; apps.ai.usage keeps a Redis counter of it for the per-call check)."""

from django.conf import settings
from django.db.models import F, Sum
from django.utils import timezone

from .models import Generation


def month_start():
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def monthly_quota(authority) -> int:
    """0 means no limit."""
    own = (authority.settings or {}).get("assistant", {}).get("monthly_token_quota")
    return int(own) if own is not None else settings.ASSISTANT_MONTHLY_TOKEN_QUOTA


def tokens_used_this_month() -> int:
    """Within the caller's tenant context."""
    total = Generation.objects.filter(created_at__gte=month_start()).aggregate(
        total=Sum(F("prompt_tokens") + F("completion_tokens"))
    )["total"]
    return total or 0


def usage_this_month() -> dict:
    """Within the caller's tenant context: tokens, energy, CO₂ and requests of the month."""
    this_month = Generation.objects.filter(created_at__gte=month_start())
    totals = this_month.aggregate(
        prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"), energy=Sum("energy_wh"), co2=Sum("co2_g")
    )
    return {key: value or 0 for key, value in totals.items()} | {"requests": this_month.count()}
