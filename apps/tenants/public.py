"""Public pages (no login) of an authority: the authority comes from the URL, not from a session."""

from contextlib import contextmanager

from django.shortcuts import get_object_or_404

from .context import tenant_context
from .models import Authority


@contextmanager
def public_authority(slug: str):
    """The active authority named by the URL, with its tenant context open (404 otherwise)."""
    authority = get_object_or_404(Authority, slug=slug, is_active=True)
    with tenant_context(authority.pk):
        yield authority
