"""DRF permissions by role. An API key acts as a reader (scope read) or an agent (scope write)."""

from rest_framework.permissions import BasePermission

from .models import Membership
from .roles import role_allows

Role = Membership.Role


class _RoleAtLeast(BasePermission):
    required = Role.READER
    message = "Votre rôle dans cette collectivité ne permet pas cette action."

    def has_permission(self, request, view):
        if getattr(request, "authority", None) is None:
            self.message = "Aucune collectivité n'est sélectionnée pour ce compte."
            return False
        return role_allows(getattr(request, "role", None), self.required)


class IsReader(_RoleAtLeast):
    required = Role.READER


class IsAgent(_RoleAtLeast):
    required = Role.AGENT


class IsAdministrator(_RoleAtLeast):
    required = Role.ADMINISTRATOR


class IsIdentified(BasePermission):
    """A signed-in person (with or without an authority) or a valid API key. Refusing here rather than
    in the view lets DRF answer 401 with its `WWW-Authenticate: Bearer` challenge."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) or request.auth is not None
