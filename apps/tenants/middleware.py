"""Runs every request inside a tenant context: one transaction scoped to the chosen authority."""

from django.db import transaction
from django.urls import reverse

from .context import switch_authority, tenant_context
from .models import Membership

SESSION_KEY = "registre_authority_id"
# Probes must answer even when the database does not (that is what /readyz reports).
EXEMPT_PATHS = ("/healthz", "/readyz")


def choose_membership(request, memberships):
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.authority_id == wanted:
            return membership
    return memberships[0] if memberships else None


class TenantMiddleware:
    """Sets request.authority, request.membership, request.memberships and request.role.

    Like ATOMIC_REQUESTS, but the transaction also carries the row-level security settings.
    API-key requests switch the authority later, in the DRF authentication class.
    Streaming responses are produced after this transaction ends: they open their own context.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if request.path in EXEMPT_PATHS:
            return self.get_response(request)
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        user = request.user
        authenticated = user.is_authenticated
        staff_in_admin = authenticated and user.is_staff and request.path.startswith(self.admin_prefix)
        request.authority = request.membership = None
        request.memberships = []
        request.role = None
        with tenant_context(None, user_id=user.pk if authenticated else None, platform_staff=staff_in_admin):
            if authenticated:
                request.memberships = list(
                    Membership.all_tenants.filter(user=user, authority__is_active=True)
                    .select_related("authority")
                    .order_by("authority__name")
                )
                membership = choose_membership(request, request.memberships)
                if membership:
                    switch_authority(membership.authority_id)
                    request.membership, request.authority, request.role = (
                        membership,
                        membership.authority,
                        membership.role,
                    )
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            return response
