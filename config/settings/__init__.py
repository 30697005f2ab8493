"""Django settings for Registre: every setting the apps read is declared here, from the environment
variables that `Environment` reads and types once (see the README's table).

Local runs need no variable at all; REGISTRE_ENV=production turns on the checks that refuse
unsafe values.
"""

import dj_database_url
from celery.schedules import crontab

from .environment import BASE_DIR, Environment

# Raises ImproperlyConfigured naming every variable it cannot read, or (in production) that is unsafe.
env = Environment()

VAR_DIR = env.REGISTRE_VAR_DIR
REGISTRE_ENV = env.REGISTRE_ENV
PRODUCTION = env.production
DEBUG = env.DEBUG
SECRET_KEY = env.SECRET_KEY
ALLOWED_HOSTS = env.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS

# The application connects as a role without BYPASSRLS that does not own the tables, so
# row-level security applies to it; migrations run on the "owner" alias (see docs/decisions).
_LOCAL_SOCKET = VAR_DIR / "postgres"
DATABASE_URL = env.DATABASE_URL
DATABASE_OWNER_URL = env.DATABASE_OWNER_URL
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"postgresql://registre_app@/registre?host={_LOCAL_SOCKET}", conn_max_age=60
    ),
    "owner": dj_database_url.parse(DATABASE_OWNER_URL or f"postgresql://postgres@/registre?host={_LOCAL_SOCKET}"),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["apps.tenants.routers.ApplicationRoleRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
    "apps.inbox",
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
OIDC_RP_CLIENT_ID = env.OIDC_RP_CLIENT_ID
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env.OIDC_RP_CLIENT_SECRET
OIDC_OP_AUTHORIZATION_ENDPOINT = env.OIDC_OP_AUTHORIZATION_ENDPOINT
OIDC_OP_TOKEN_ENDPOINT = env.OIDC_OP_TOKEN_ENDPOINT
OIDC_OP_USER_ENDPOINT = env.OIDC_OP_USER_ENDPOINT
OIDC_OP_JWKS_ENDPOINT = env.OIDC_OP_JWKS_ENDPOINT
OIDC_OP_LOGOUT_ENDPOINT = env.OIDC_OP_LOGOUT_ENDPOINT
OIDC_RP_SIGN_ALGO = env.OIDC_RP_SIGN_ALGO
OIDC_RP_SCOPES = env.OIDC_RP_SCOPES
OIDC_CREATE_USER = env.OIDC_CREATE_USER
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
MEDIA_ROOT = env.MEDIA_ROOT

REDIS_URL = env.REDIS_URL
CELERY_BROKER_URL = REDIS_URL
# Shared by every process: rate limits (django-ratelimit) must count across gunicorn workers.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
RATELIMIT_USE_CACHE = "default"
CELERY_TASK_ALWAYS_EAGER = env.CELERY_TASK_ALWAYS_EAGER
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-run is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True  # outcomes live in the Job table, not in a result backend
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# An unacknowledged task (worker killed) goes back to the queue after this delay.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.CELERY_VISIBILITY_TIMEOUT_SECONDS}
# Generations wait on the GPU cluster, not on our CPU: they get their own queue, served by a worker
# with a threads pool, so that they never queue behind document indexing (and vice versa).
GENERATION_QUEUE = "generation"
CELERY_TASK_ROUTES = {"assistant.generate": {"queue": GENERATION_QUEUE}}
CELERY_IMPORTS = env.CELERY_IMPORTS  # extra task modules (the test suite's worker uses it)
JOB_RETRY_BASE_SECONDS = env.JOB_RETRY_BASE_SECONDS
CELERY_BEAT_SCHEDULE = {
    "fail-stale-jobs": {"task": "jobs.fail_stale_jobs", "schedule": crontab(minute="*/10")},
    "purge-expired-messages": {"task": "inbox.purge_expired_messages", "schedule": crontab(hour=3, minute=17)},
    "reembed-outdated-chunks": {"task": "documents.schedule_reembedding", "schedule": crontab(minute="*/30")},
}

INFERENCE_URL = env.INFERENCE_URL
INFERENCE_API_KEY = env.INFERENCE_API_KEY
INFERENCE_MODEL = env.INFERENCE_MODEL
INFERENCE_ROUTES = env.INFERENCE_ROUTES  # each route is checked when used (apps/inference/routing.py)
INFERENCE_TIMEOUT_SECONDS = env.INFERENCE_TIMEOUT_SECONDS
INFERENCE_MAX_CONCURRENCY = env.INFERENCE_MAX_CONCURRENCY  # per route, shared by all workers
INFERENCE_SLOT_WAIT_SECONDS = env.INFERENCE_SLOT_WAIT_SECONDS
INFERENCE_RETRIES = env.INFERENCE_RETRIES
INFERENCE_RETRY_BACKOFF_SECONDS = env.INFERENCE_RETRY_BACKOFF_SECONDS
INFERENCE_BREAKER_FAILURES = env.INFERENCE_BREAKER_FAILURES
INFERENCE_BREAKER_COOLDOWN_SECONDS = env.INFERENCE_BREAKER_COOLDOWN_SECONDS
INFERENCE_WH_PER_1K_TOKENS = env.INFERENCE_WH_PER_1K_TOKENS  # see apps/inference/energy.py
INFERENCE_GRID_GCO2_PER_KWH = env.INFERENCE_GRID_GCO2_PER_KWH
EMBEDDINGS_URL = env.EMBEDDINGS_URL
EMBEDDINGS_API_KEY = env.EMBEDDINGS_API_KEY
EMBEDDINGS_MODEL_ID = env.EMBEDDINGS_MODEL_ID
EMBEDDINGS_TIMEOUT_SECONDS = env.EMBEDDINGS_TIMEOUT_SECONDS
RERANK_URL = env.RERANK_URL

# Documents
DOCUMENT_MAX_UPLOAD_BYTES = env.DOCUMENT_MAX_UPLOAD_MB * 1024 * 1024
DOCUMENT_MAX_PAGES = env.DOCUMENT_MAX_PAGES
DOCUMENT_MAX_FILES_PER_UPLOAD = env.DOCUMENT_MAX_FILES_PER_UPLOAD
# Passage size, in (estimated) tokens of the embedder; e5 reads up to 512.
CHUNK_MAX_TOKENS = env.CHUNK_MAX_TOKENS
CHUNK_OVERLAP_TOKENS = env.CHUNK_OVERLAP_TOKENS
TESSERACT_CMD = env.TESSERACT_CMD
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = DOCUMENT_MAX_FILES_PER_UPLOAD
# Deliberations
DELIB_IMPORT_MAX_BYTES = env.DELIB_IMPORT_MAX_MB * 1024 * 1024  # an SCDL file, upload or URL
# Fetch each deliberation's act at DELIB_URL after an import (off where the network is closed).
DELIB_FETCH_ATTACHMENTS = env.DELIB_FETCH_ATTACHMENTS
DELIB_FETCH_TIMEOUT_SECONDS = env.DELIB_FETCH_TIMEOUT_SECONDS
DELIB_ATTACHMENT_MAX_BYTES = env.DELIB_ATTACHMENT_MAX_MB * 2**20
# URL imports and act downloads refuse private and loopback addresses (SSRF) unless an intranet needs them.
DELIB_FETCH_ALLOW_PRIVATE_HOSTS = env.DELIB_FETCH_ALLOW_PRIVATE_HOSTS
# Matière suggestions for the deliberations extracted from minutes stop after this many seconds per
# job (the agent can still pick a matière by hand); 0 turns them off.
MINUTES_MATIERE_SECONDS = env.MINUTES_MATIERE_SECONDS
# Let the generative model choose among the classifier's candidate matières (unmeasured: off by default).
DELIB_ROUTING_USE_MODEL = env.DELIB_ROUTING_USE_MODEL
# Assistant
# Tokens (prompt + generated) an authority may use per calendar month; 0 = no limit. An authority's
# own value (settings["assistant"]["monthly_token_quota"]) overrides it.
ASSISTANT_MONTHLY_TOKEN_QUOTA = env.ASSISTANT_MONTHLY_TOKEN_QUOTA
ASSISTANT_SOURCES = env.ASSISTANT_SOURCES  # passages given to the model per question
# Inbox (citizens' messages)
INBOX_REPLY_DAYS = env.INBOX_REPLY_DAYS
INBOX_RETENTION_MONTHS = env.INBOX_RETENTION_MONTHS
INBOX_FORM_RATE = env.INBOX_FORM_RATE
TRUSTED_PROXIES = env.TRUSTED_PROXIES  # how the client's address is found behind a reverse proxy (bots.py)
ALTCHA_HMAC_KEY = env.ALTCHA_HMAC_KEY
ALTCHA_MAX_NUMBER = env.ALTCHA_MAX_NUMBER
READINESS_TIMEOUT_SECONDS = env.READINESS_TIMEOUT_SECONDS
JOB_STALE_AFTER_MINUTES = env.JOB_STALE_AFTER_MINUTES

REST_FRAMEWORK = {
    # API keys first: its WWW-Authenticate header makes unauthenticated calls 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.tenants.permissions.IsMember"],  # views declare their ability
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.RegistreAutoSchema",  # adds the shared 400 envelope
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

EMAIL_HOST = env.EMAIL_HOST
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env.EMAIL_PORT
EMAIL_HOST_USER = env.EMAIL_HOST_USER
EMAIL_HOST_PASSWORD = env.EMAIL_HOST_PASSWORD
EMAIL_USE_TLS = env.EMAIL_USE_TLS
DEFAULT_FROM_EMAIL = env.DEFAULT_FROM_EMAIL
SITE_URL = env.SITE_URL

X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.SECURE_HSTS_SECONDS
    SECURE_SSL_REDIRECT = env.SECURE_SSL_REDIRECT

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
