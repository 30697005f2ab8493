"""Tokens used by an authority this month, for quotas: a Redis counter per authority and month,
rebuilt from the audit log (the source of truth) when Redis lost it. Summing the month's
generations at every model call would cost more as the month goes on."""

from functools import lru_cache

import redis
from django.conf import settings
from django.utils import timezone

from apps.tenants.context import tenant_context

from . import selectors
from .errors import QuotaExceeded

KEEP_SECONDS = 40 * 24 * 3600  # past the end of the month


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _key(authority_id: int) -> str:
    return f"registre:usage:{authority_id}:{timezone.localtime():%Y-%m}"


def tokens_this_month(authority_id: int) -> int:
    value = _redis().get(_key(authority_id))
    if value is not None:
        return int(value)
    with tenant_context(authority_id):
        total = selectors.tokens_used_this_month()
    _redis().set(_key(authority_id), total, ex=KEEP_SECONDS, nx=True)  # nx: a concurrent add wins
    return int(_redis().get(_key(authority_id)) or total)


def add(authority_id: int, tokens: int) -> None:
    if tokens:
        key = _key(authority_id)
        if _redis().exists(key):  # else the next read rebuilds it from the database, this row included
            _redis().incrby(key, tokens)


def check_quota(authority, *, pending: int = 0) -> None:
    """Raise QuotaExceeded when the month's tokens, plus `pending` not yet recorded, reach the quota."""
    quota = selectors.monthly_quota(authority)
    if quota and tokens_this_month(authority.pk) + pending >= quota:
        raise QuotaExceeded(quota)
