"""Routes of the register: agents' pages, the public register (no login) and the API. Each capability
owns its `urlpatterns`; this file only assembles them."""

from .imports import api as imports_api
from .imports import views as imports_views
from .minutes import api as minutes_api
from .minutes import views as minutes_views
from .register import api as register_api
from .register import public as register_public
from .register import views as register_views
from .routing import api as routing_api
from .routing import views as routing_views
from .similar import api as similar_api
from .similar import views as similar_views

page_urlpatterns = [
    *register_views.urlpatterns,
    *imports_views.urlpatterns,
    *routing_views.urlpatterns,
    *minutes_views.urlpatterns,
    *similar_views.urlpatterns,
]
public_urlpatterns = [*register_public.urlpatterns]
api_urlpatterns = [
    *register_api.urlpatterns,
    *imports_api.urlpatterns,
    *routing_api.urlpatterns,
    *minutes_api.urlpatterns,
    *similar_api.urlpatterns,
]
