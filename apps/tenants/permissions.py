"""The API face of the abilities table (abilities.py): a permission that lets a request through when the
caller's role has the view's ability, and the `abilities` field every serialized object carries."""

from rest_framework import serializers
from rest_framework.permissions import BasePermission

from .abilities import READER, can, get_abilities, least_role, role_allows

NO_AUTHORITY = "Aucune collectivité n'est sélectionnée pour ce compte."
NOT_ALLOWED = "Votre rôle dans cette collectivité ne permet pas cette action."


class IsMember(BasePermission):
    """Any role in the authority the request works for (the API's default; views declare their ability)."""

    message = NOT_ALLOWED

    def has_permission(self, request, view):
        if getattr(request, "authority", None) is None:
            self.message = NO_AUTHORITY
            return False
        return role_allows(getattr(request, "role", None), READER)


class AbilityPermission(IsMember):
    """Lets the request through when the caller's role has `action` (by default the viewset's action) on
    `resource`. Made by `ability()`."""

    resource: str = ""
    action: str | None = None

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        action = self.action or _viewset_action(request, view)
        # None: a method the route does not serve (any member then gets DRF's 405), or OPTIONS itself.
        return action is None or can(request.role, self.resource, action)


def _viewset_action(request, view) -> str | None:
    action = getattr(view, "action", None)
    if action == "metadata":
        # OPTIONS lists the methods the caller may use: DRF checks each on a copy of the request.
        return view.action_map.get(request.method.lower())
    return action


def ability(resource: str, action: str | None = None) -> type[BasePermission]:
    """A permission class: the caller's role has `action` on `resource` (by default the viewset's action,
    `list`, `reindex`…). Declared on the view: `permission_classes = [ability("documents")]`, or
    `[ability("documents", "search")]` on an APIView."""
    if action is None:
        get_abilities(None, resource)  # an unknown name fails when the view is declared, not when called
    else:
        least_role(resource, action)
    return type(f"Can_{resource}_{action or 'action'}", (AbilityPermission,), {"resource": resource, "action": action})


class IsIdentified(BasePermission):
    """A signed-in person (with or without an authority) or a valid API key. Refusing here rather than
    in the view lets DRF answer 401 with its `WWW-Authenticate: Bearer` challenge."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) or request.auth is not None


def caller(request) -> tuple[object | None, str | None]:
    """(user, role) of the request: no user for an API key or without a request (abilities all False)."""
    if request is None:
        return None, None
    user = request.user if request.user.is_authenticated else None
    return user, getattr(request, "role", None)


class AbilitiesField(serializers.DictField):
    """`abilities`: what the caller may do with this object, action → bool. The object's own
    `get_abilities(user, role)` when its model has one, else the role's row of the table."""

    def __init__(self, resource: str, **kwargs):
        self.resource = resource
        get_abilities(None, resource)  # an unknown resource fails at import, not at the first request
        kwargs.setdefault("help_text", "Ce que l'appelant peut faire de cet objet : action → autorisée.")
        super().__init__(child=serializers.BooleanField(), read_only=True, source="*", **kwargs)

    def to_representation(self, instance):
        user, role = caller(self.context.get("request"))
        if hasattr(instance, "get_abilities"):
            return instance.get_abilities(user=user, role=role)
        return get_abilities(role, self.resource)
