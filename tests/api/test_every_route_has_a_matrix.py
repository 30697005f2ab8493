"""Guard rails over the whole API: every route and method under /api/v1/ has a role matrix in tests/api/
(see matrix.py), and anonymous calls get 401 with a `WWW-Authenticate: Bearer` challenge everywhere."""

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from . import matrix

# The DefaultRouter's index: links to the list routes, no authority data (the anonymous sweep below still
# checks it). Its format-suffix twin and those of every router route (`/jobs.json`) are skipped too: same
# view, same checks.
NOT_RESOURCES = frozenset({"api:api-root"})
# Not actions: HEAD is answered by GET's handler and OPTIONS by DRF's metadata, after the same
# authentication and permission checks as the route's other methods.
NOT_ACTIONS = frozenset({"head", "options", "trace"})


def _walk(resolver, namespace):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
            yield from _walk(pattern, inner)
        elif isinstance(pattern, URLPattern) and "format" not in pattern.pattern.regex.groupindex:
            yield f"{namespace}:{pattern.name}", pattern


def _methods(pattern) -> set[str]:
    view = getattr(pattern.callback, "cls", None)
    assert view is not None, f"{pattern.name}: every API route is a DRF view"
    # A viewset's route maps methods to actions; a plain APIView answers the methods it defines.
    handlers = getattr(pattern.callback, "actions", None) or [m for m in view.http_method_names if hasattr(view, m)]
    return {method.upper() for method in handlers if method in view.http_method_names and method not in NOT_ACTIONS}


def api_routes() -> dict[str, tuple[URLPattern, set[str]]]:
    """{"api:document-detail": (pattern, {"GET", "PATCH", "DELETE"}), …}, from the URL resolver."""
    _, resolver = get_resolver().namespace_dict["api"]
    return {name: (pattern, _methods(pattern)) for name, pattern in _walk(resolver, "api")}


def declared() -> set[tuple[str, str]]:
    """(route, method) of every matrix in the test modules of tests/api/."""
    package = importlib.import_module(__package__)
    modules = [
        importlib.import_module(f"{__package__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("test_")
    ]
    return {action.key for module in modules for action in matrix.declared_in(module)}


def test_every_api_route_and_method_has_a_role_matrix():
    routes = api_routes()
    wanted = {
        (name, method) for name, (_, methods) in routes.items() for method in methods if name not in NOT_RESOURCES
    }
    covered = declared()
    assert sorted(wanted - covered) == [], "routes without a role matrix in tests/api/"
    assert sorted(covered - {(n, m) for n, (_, methods) in routes.items() for m in methods}) == [], (
        "matrices of routes or methods the API does not have"
    )


def _url(pattern, name) -> str:
    return reverse(name, kwargs=dict.fromkeys(pattern.pattern.regex.groupindex, "1"))


ROUTES = sorted(
    (name, method, pattern)
    for name, (pattern, methods) in api_routes().items()
    for method in methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "pattern"), ROUTES, ids=[f"{n} {m}" for n, m, _ in ROUTES])
def test_anonymous_gets_401_with_a_bearer_challenge(name, method, pattern):
    response = APIClient().generic(method, _url(pattern, name))
    assert response.status_code == 401, response.content[:300]
    assert response.get("WWW-Authenticate", "").startswith("Bearer"), response.headers
