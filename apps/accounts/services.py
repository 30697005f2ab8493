"""Writes on accounts: API keys and their lifecycle."""

from django.utils import timezone

from apps.tenants.context import current_authority_id, switch_authority

from .keys import new_key, parse_key, secret_matches
from .models import ApiKey

# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION_SECONDS = 60


def create_api_key(*, authority, name: str, scope: str, created_by=None) -> tuple[ApiKey, str]:
    """Returns the stored key and its plaintext, which is shown once and never stored."""
    plaintext, prefix, secret_hash = new_key(authority.pk)
    key = ApiKey.objects.create(
        authority=authority, name=name, scope=scope, prefix=prefix, secret_hash=secret_hash, created_by=created_by
    )
    return key, plaintext


def revoke_api_key(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def authenticate_api_key(raw: str) -> ApiKey | None:
    """Find the active key matching `raw`, switching the tenant context to its authority.

    Must run inside a tenant context (the request's). On failure the context is restored.
    """
    parsed = parse_key(raw)
    if parsed is None:
        return None
    previous = current_authority_id()
    switch_authority(parsed.authority_id)
    key = (
        ApiKey.objects.select_related("authority")
        .filter(prefix=parsed.prefix, revoked_at__isnull=True, authority__is_active=True)
        .first()
    )
    if key is None or not secret_matches(parsed.secret, key.secret_hash):
        switch_authority(previous)
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
