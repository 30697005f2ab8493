"""Routes of the inbox: agents' pages, the citizens' public pages (no login), and the API."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import public, views
from .api import MessageViewSet

router = SimpleRouter(trailing_slash=True)
router.register("inbox/messages", MessageViewSet, basename="inbox-message")
api_urlpatterns = router.urls

page_urlpatterns = [
    path("messagerie/", views.inbox, name="inbox"),
    path("messagerie/tableau-de-bord/", views.dashboard, name="inbox-dashboard"),
    path("messagerie/tableau-de-bord.csv", views.dashboard_csv, name="inbox-dashboard-csv"),
    path("messagerie/reglages/", views.inbox_settings, name="inbox-settings"),
    path("messagerie/<int:pk>/", views.message_page, name="inbox-message"),
    path("messagerie/<int:pk>/attribuer/", views.assign, name="inbox-assign"),
    path("messagerie/<int:pk>/proposer/", views.request_draft, name="inbox-draft"),
    path("messagerie/<int:pk>/enregistrer/", views.save_reply, name="inbox-save"),
    path("messagerie/<int:pk>/verifier/", views.check_reply, name="inbox-check"),
    path("messagerie/<int:pk>/envoyer/", views.send_reply, name="inbox-send"),
    path("messagerie/<int:pk>/clore/", views.close, name="inbox-close"),
    path("messagerie/brouillons/<int:pk>/", views.draft_fragment, name="inbox-draft-fragment"),
    path("messagerie/brouillons/<int:pk>/flux/", views.draft_stream, name="inbox-draft-stream"),
    path("messagerie/brouillons/<int:pk>/inserer/", views.insert_draft, name="inbox-draft-insert"),
    path("messagerie/brouillons/<int:pk>/noter/", views.rate_draft, name="inbox-draft-rate"),
]

public_urlpatterns = public.urlpatterns
