from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.accounts import views as accounts_views
from apps.accounts.api import ApiKeyViewSet, MeView
from apps.accounts.forms import LoginForm
from apps.assistant import api as assistant_api
from apps.assistant import views as assistant_views
from apps.core import views as core_views
from apps.deliberations import urls as deliberations_urls
from apps.documents import views as documents_views
from apps.documents.api import CollectionViewSet, DocumentViewSet, SearchView
from apps.inbox import urls as inbox_urls
from apps.jobs import views as jobs_views
from apps.jobs.api import JobViewSet
from apps.tenants import views as tenants_views
from apps.tenants.api import CurrentAuthorityView, MembershipViewSet

admin.site.site_header = "Registre — administration de la plateforme"
admin.site.site_title = "Registre"

router = DefaultRouter(trailing_slash=True)
router.register("jobs", JobViewSet, basename="job")
router.register("members", MembershipViewSet, basename="member")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("collections", CollectionViewSet, basename="collection")
router.register("documents", DocumentViewSet, basename="document")
router.register("assistant/generations", assistant_api.GenerationViewSet, basename="generation")

api_urls = [
    path("me/", MeView.as_view(), name="api-me"),
    path("authority/", CurrentAuthorityView.as_view(), name="api-authority"),
    path("search/", SearchView.as_view(), name="api-search"),
    path("assistant/questions/", assistant_api.QuestionView.as_view(), name="assistant-questions"),
    path("assistant/tools/<str:task>/", assistant_api.ToolView.as_view(), name="assistant-tool"),
    path("assistant/audit.csv", assistant_api.AuditExportView.as_view(), name="assistant-audit-export"),
    *deliberations_urls.api_urlpatterns,
    *inbox_urls.api_urlpatterns,
    *router.urls,
]

auth_urls = [
    path(
        "connexion/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/oublie/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/envoye/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("mot-de-passe/change/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = [
    path("", core_views.dashboard, name="dashboard"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    *auth_urls,
    path("collectivite/<slug:slug>/choisir/", tenants_views.switch_authority, name="switch-authority"),
    path("parametres/collectivite/", tenants_views.authority_settings, name="authority-settings"),
    path("parametres/membres/", tenants_views.members, name="members"),
    path("parametres/membres/<int:pk>/", tenants_views.member_update, name="member-update"),
    path("parametres/cles-api/", accounts_views.api_keys, name="api-keys"),
    path("parametres/cles-api/<int:pk>/revoquer/", accounts_views.api_key_revoke, name="api-key-revoke"),
    path("documents/", documents_views.document_list, name="documents"),
    path("documents/<int:pk>/", documents_views.document_detail, name="document-detail"),
    path("documents/<int:pk>/fichier/", documents_views.document_file, name="document-file"),
    path("documents/<int:pk>/indexer/", documents_views.document_reindex, name="document-reindex"),
    path("documents/<int:pk>/supprimer/", documents_views.document_delete, name="document-delete"),
    path("recherche/", documents_views.search_page, name="search"),
    path("parametres/collections/", documents_views.collections, name="collections"),
    path("assistant/", assistant_views.chat, name="assistant"),
    path("assistant/redaction/", assistant_views.writing_page, name="assistant-writing"),
    path("assistant/outils/<str:task>/", assistant_views.run_tool, name="assistant-tool"),
    path("assistant/journal/", assistant_views.audit_log, name="assistant-audit"),
    path(
        "assistant/conversations/<int:pk>/supprimer/",
        assistant_views.delete_conversation,
        name="assistant-conversation-delete",
    ),
    path("assistant/generations/<int:pk>/", assistant_views.generation_page, name="assistant-generation"),
    path("assistant/generations/<int:pk>/flux/", assistant_views.generation_stream, name="assistant-stream"),
    path("assistant/generations/<int:pk>/resultat/", assistant_views.generation_fragment, name="assistant-fragment"),
    path("assistant/generations/<int:pk>/avis/", assistant_views.feedback, name="assistant-feedback"),
    path(
        "assistant/generations/<int:pk>/corrections/", assistant_views.apply_corrections, name="assistant-corrections"
    ),
    *deliberations_urls.page_urlpatterns,
    *deliberations_urls.public_urlpatterns,
    *inbox_urls.page_urlpatterns,
    *inbox_urls.public_urlpatterns,
    path("travaux/", jobs_views.job_list, name="jobs"),
    path("travaux/diagnostic/", jobs_views.start_diagnostic, name="jobs-diagnostic"),
    path("travaux/<int:pk>/relancer/", jobs_views.retry, name="job-retry"),
    # Namespaced: router names ("document-detail"…) must never shadow the pages' names.
    path("api/v1/", include((api_urls, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # ProConnect / OpenID Connect; the login page offers it only when OIDC_RP_CLIENT_ID is set.
    path("oidc/", include("mozilla_django_oidc.urls")),
]
