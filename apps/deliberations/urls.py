"""Routes of the register: agents' pages, the public register (no login) and the API.
Each module owns its `urlpatterns`; this file only assembles them."""

from . import (
    api,
    api_import,
    api_minutes,
    api_routing,
    api_similar,
    views,
    views_import,
    views_minutes,
    views_public,
    views_routing,
    views_similar,
)

page_urlpatterns = [*views.urlpatterns, *views_import.urlpatterns, *views_routing.urlpatterns,
                    *views_minutes.urlpatterns, *views_similar.urlpatterns]
public_urlpatterns = [*views_public.urlpatterns]
api_urlpatterns = [*api.urlpatterns, *api_import.urlpatterns, *api_routing.urlpatterns, *api_minutes.urlpatterns,
                   *api_similar.urlpatterns]
