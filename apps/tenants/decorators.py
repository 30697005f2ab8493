from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .roles import role_allows


def role_required(role: str):
    """Page views: logged in, an authority chosen, and at least `role` in it."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if request.authority is None:
                return render(request, "tenants/no_authority.html", status=403)
            if not role_allows(request.role, role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
