"""Django settings for Registre, read from environment variables (see the README's table).

Local runs need no variable at all; REGISTRE_ENV=production turns on the checks that refuse
unsafe values.
"""

import json
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from .environment import (
    INSECURE_SECRET_KEY,
    check_production,
    env_bool,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("REGISTRE_VAR_DIR") or BASE_DIR / "var")

REGISTRE_ENV = env_str("REGISTRE_ENV", "development")
PRODUCTION = REGISTRE_ENV == "production"
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else INSECURE_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The application connects as a role without BYPASSRLS that does not own the tables, so
# row-level security applies to it; migrations run on the "owner" alias (see docs/decisions).
_LOCAL_SOCKET = VAR_DIR / "postgres"
DATABASE_URL = env_str("DATABASE_URL")
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL") or DATABASE_URL
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"postgresql://registre_app@/registre?host={_LOCAL_SOCKET}", conn_max_age=60
    ),
    "owner": dj_database_url.parse(DATABASE_OWNER_URL or f"postgresql://postgres@/registre?host={_LOCAL_SOCKET}"),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["apps.tenants.routers.ApplicationRoleRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if PRODUCTION:
    check_production(secret_key=SECRET_KEY, debug=DEBUG, allowed_hosts=ALLOWED_HOSTS, database_url=DATABASE_URL)

INSTALLED_APPS = [
    "apps.core",  # first: its `migrate` command defaults to the owner database alias
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "mozilla_django_oidc",
    "apps.tenants",
    "apps.accounts",
    "apps.jobs",
    "apps.documents",
    "apps.inference",
    "apps.ai",
    "apps.assistant",
    "apps.deliberations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.tenants.middleware.TenantMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.tenants.context_processors.tenancy",
                "apps.core.context_processors.platform",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# ProConnect (or any OpenID Connect provider): enabled when a client id is configured.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT")
OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_OP_LOGOUT_ENDPOINT")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email given_name usual_name")
OIDC_CREATE_USER = env_bool("OIDC_CREATE_USER", default=True)
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("apps.accounts.oidc.RegistreOIDCBackend")

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:  # WhiteNoise warns on every start when the collectstatic folder is missing
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6390/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-run is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True  # outcomes live in the Job table, not in a result backend
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# An unacknowledged task (worker killed) goes back to the queue after this delay.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 3600)}
# Generations wait on the GPU cluster, not on our CPU: they get their own queue, served by a worker
# with a threads pool, so that they never queue behind document indexing (and vice versa).
GENERATION_QUEUE = "generation"
CELERY_TASK_ROUTES = {"assistant.generate": {"queue": GENERATION_QUEUE}}
CELERY_IMPORTS = env_list("CELERY_IMPORTS")  # extra task modules (the test suite's worker uses it)
JOB_RETRY_BASE_SECONDS = float(env_str("JOB_RETRY_BASE_SECONDS", "5"))
CELERY_BEAT_SCHEDULE = {
    "fail-stale-jobs": {"task": "jobs.fail_stale_jobs", "schedule": crontab(minute="*/10")},
    "reembed-outdated-chunks": {"task": "documents.schedule_reembedding", "schedule": crontab(minute="*/30")},
}

INFERENCE_URL = env_str("INFERENCE_URL")
INFERENCE_API_KEY = env_str("INFERENCE_API_KEY")
INFERENCE_MODEL = env_str("INFERENCE_MODEL", "tgi")  # model name sent in chat requests (TGI ignores it)
INFERENCE_ROUTES = json.loads(env_str("INFERENCE_ROUTES") or "[]")  # extra routes per task, see README
INFERENCE_TIMEOUT_SECONDS = float(env_str("INFERENCE_TIMEOUT_SECONDS", "60"))
INFERENCE_MAX_CONCURRENCY = env_int("INFERENCE_MAX_CONCURRENCY", 16)  # per route, shared by all workers
INFERENCE_SLOT_WAIT_SECONDS = float(env_str("INFERENCE_SLOT_WAIT_SECONDS", "30"))
INFERENCE_RETRIES = env_int("INFERENCE_RETRIES", 2)
INFERENCE_RETRY_BACKOFF_SECONDS = float(env_str("INFERENCE_RETRY_BACKOFF_SECONDS", "0.5"))
INFERENCE_BREAKER_FAILURES = env_int("INFERENCE_BREAKER_FAILURES", 5)
INFERENCE_BREAKER_COOLDOWN_SECONDS = float(env_str("INFERENCE_BREAKER_COOLDOWN_SECONDS", "30"))
INFERENCE_WH_PER_1K_TOKENS = float(env_str("INFERENCE_WH_PER_1K_TOKENS", "1.0"))  # see apps/inference/energy.py
INFERENCE_GRID_GCO2_PER_KWH = float(env_str("INFERENCE_GRID_GCO2_PER_KWH", "56"))
EMBEDDINGS_URL = env_str("EMBEDDINGS_URL")
EMBEDDINGS_API_KEY = env_str("EMBEDDINGS_API_KEY")
EMBEDDINGS_MODEL_ID = env_str("EMBEDDINGS_MODEL_ID", "intfloat/multilingual-e5-small")
EMBEDDINGS_TIMEOUT_SECONDS = env_int("EMBEDDINGS_TIMEOUT_SECONDS", 30)
RERANK_URL = env_str("RERANK_URL")

# Documents
DOCUMENT_MAX_UPLOAD_BYTES = env_int("DOCUMENT_MAX_UPLOAD_MB", 50) * 1024 * 1024
DOCUMENT_MAX_PAGES = env_int("DOCUMENT_MAX_PAGES", 1000)
DOCUMENT_MAX_FILES_PER_UPLOAD = env_int("DOCUMENT_MAX_FILES_PER_UPLOAD", 200)
# Passage size, in (estimated) tokens of the embedder; e5 reads up to 512.
CHUNK_MAX_TOKENS = env_int("CHUNK_MAX_TOKENS", 480)
CHUNK_OVERLAP_TOKENS = env_int("CHUNK_OVERLAP_TOKENS", 60)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = DOCUMENT_MAX_FILES_PER_UPLOAD
# Deliberations
DELIB_IMPORT_MAX_BYTES = env_int("DELIB_IMPORT_MAX_MB", 100) * 1024 * 1024  # an SCDL file, upload or URL
# Fetch each deliberation's act at DELIB_URL after an import (off where the network is closed).
DELIB_FETCH_ATTACHMENTS = env_bool("DELIB_FETCH_ATTACHMENTS", default=True)
DELIB_FETCH_TIMEOUT_SECONDS = env_int("DELIB_FETCH_TIMEOUT_SECONDS", 30)
DELIB_ATTACHMENT_MAX_BYTES = env_int("DELIB_ATTACHMENT_MAX_MB", DOCUMENT_MAX_UPLOAD_BYTES // 2**20) * 2**20
# URL imports and act downloads refuse private and loopback addresses (SSRF) unless an intranet needs them.
DELIB_FETCH_ALLOW_PRIVATE_HOSTS = env_bool("DELIB_FETCH_ALLOW_PRIVATE_HOSTS", default=False)
# Matière suggestions for the deliberations extracted from minutes stop after this many seconds per
# job (the agent can still pick a matière by hand); 0 turns them off.
MINUTES_MATIERE_SECONDS = env_int("MINUTES_MATIERE_SECONDS", 60)
# Let the generative model choose among the classifier's candidate matières (unmeasured: off by default).
DELIB_ROUTING_USE_MODEL = env_bool("DELIB_ROUTING_USE_MODEL", default=False)
# Assistant
# Tokens (prompt + generated) an authority may use per calendar month; 0 = no limit. An authority's
# own value (settings["assistant"]["monthly_token_quota"]) overrides it.
ASSISTANT_MONTHLY_TOKEN_QUOTA = env_int("ASSISTANT_MONTHLY_TOKEN_QUOTA", 2_000_000)
ASSISTANT_SOURCES = env_int("ASSISTANT_SOURCES", 6)  # passages given to the model per question
READINESS_TIMEOUT_SECONDS = env_int("READINESS_TIMEOUT_SECONDS", 2)
JOB_STALE_AFTER_MINUTES = env_int("JOB_STALE_AFTER_MINUTES", 60)

REST_FRAMEWORK = {
    # API keys first: its WWW-Authenticate header makes unauthenticated calls 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.tenants.permissions.IsReader"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Registre",
    "DESCRIPTION": "API des collectivités : authentification par clé d'API (en-tête `Authorization: Bearer …`).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AuthorityKindEnum": "apps.tenants.models.Authority.Kind",
        "DocumentKindEnum": "apps.documents.models.Document.Kind",
    },
}

EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Registre <ne-pas-repondre@registre.localhost>")

X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
