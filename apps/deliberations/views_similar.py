"""Pages/API module (see urls.py)."""

urlpatterns = []
