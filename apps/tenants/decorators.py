from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .abilities import can, least_role


def ability_required(resource: str, action: str):
    """Page views: logged in, an authority chosen, and a role that has `action` on `resource` (abilities.py)."""
    least_role(resource, action)  # an unknown name fails when the view is declared

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if request.authority is None:
                return render(request, "tenants/no_authority.html", status=403)
            if not can(request.role, resource, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
