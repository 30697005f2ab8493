"""Which inference servers serve which task, from settings: INFERENCE_URL is the default route
for every task; INFERENCE_ROUTES adds servers for some tasks and fallbacks."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ANY_TASK = "*"


@dataclass(frozen=True)
class Route:
    name: str  # names the route's semaphore and circuit breaker in Redis
    url: str
    model: str
    api_key: str = ""
    tasks: tuple[str, ...] = (ANY_TASK,)
    grammar: bool = False  # the server applies TGI's `response_format` grammar (JSON schema)
    max_concurrency: int | None = None  # else INFERENCE_MAX_CONCURRENCY


def configured_routes() -> list[Route]:
    routes = []
    if settings.INFERENCE_URL:
        routes.append(
            Route(
                name="default",
                url=settings.INFERENCE_URL,
                model=settings.INFERENCE_MODEL,
                api_key=settings.INFERENCE_API_KEY,
            )
        )
    if not isinstance(settings.INFERENCE_ROUTES, list):
        raise ImproperlyConfigured("INFERENCE_ROUTES must be a JSON list of routes")
    routes += [_route_from(entry) for entry in settings.INFERENCE_ROUTES]
    names = [route.name for route in routes]
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"INFERENCE_ROUTES: route names must be unique, got {names}")
    return routes


def _route_from(entry) -> Route:
    if not isinstance(entry, dict) or not entry.get("name") or not entry.get("url"):
        keys = sorted(entry) if isinstance(entry, dict) else type(entry).__name__  # never echo an api_key
        raise ImproperlyConfigured(f"INFERENCE_ROUTES: each route needs a name and a url, got {keys}")
    tasks = entry.get("tasks") or [ANY_TASK]
    # A route's key is never inherited from INFERENCE_API_KEY: it may be another operator's server.
    return Route(
        name=str(entry["name"]),
        url=str(entry["url"]),
        model=str(entry.get("model") or settings.INFERENCE_MODEL),
        api_key=str(entry.get("api_key") or ""),
        tasks=tuple(str(t) for t in tasks),
        grammar=bool(entry.get("grammar", False)),
        max_concurrency=entry.get("max_concurrency"),
    )


def routes_for(task: str) -> list[Route]:
    """Routes naming the task first, then the catch-all ones, each in configuration order; the later
    routes are the fallbacks when an earlier one fails or its circuit is open."""
    routes = configured_routes()
    return [route for route in routes if task in route.tasks] + [
        route for route in routes if task not in route.tasks and ANY_TASK in route.tasks
    ]
