"""The environment variables Registre reads, typed and documented in one class (`Environment`), and the
checks that refuse a value that cannot be read, or that is unsafe in production, naming the variable.

Every field is a row of the README's configuration table (tests/test_settings.py keeps them in step).
"""

import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from django.core.exceptions import ImproperlyConfigured
from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BASE_DIR = Path(__file__).resolve().parent.parent.parent
INSECURE_SECRET_KEY = "registre-local-only-insecure-key"  # noqa: S105 - the default production refuses
LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
# Their value may hold a secret (INFERENCE_ROUTES carries each route's api_key): never echoed in an error.
NOT_ECHOED = {"INFERENCE_ROUTES"}


def _flag(value: Any) -> Any:
    # Stricter than pydantic's bool, which also takes "t" or "n": a typo must not silently turn a switch off.
    if isinstance(value, str):
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
        raise PydanticCustomError("flag", "must be true or false (or 1/0, yes/no, on/off)")
    return value


def _comma_separated(value: Any) -> Any:
    return [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value


def _routes(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise PydanticCustomError(
                "routes_json",
                "must be a JSON list of routes (invalid JSON at line {line}, column {column})",
                {"line": exc.lineno, "column": exc.colno},
            ) from exc
    if not isinstance(value, list) or not all(isinstance(route, dict) for route in value):
        raise PydanticCustomError("routes", "must be a JSON list of routes, each an object")
    return value


Flag = Annotated[bool, BeforeValidator(_flag)]
Count = Annotated[int, Field(ge=0)]
Number = Annotated[float, Field(ge=0, allow_inf_nan=False)]
# NoDecode: pydantic-settings would read a list as JSON; these are comma-separated.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_comma_separated)]
LogLevel = Literal[tuple(logging.getLevelNamesMapping())]  # the names logging.config accepts


class Environment(BaseSettings):
    """One field per variable, with its default; None marks a default that follows another variable,
    filled in by `_follow_other_variables`. `Environment()` raises ImproperlyConfigured naming each bad one."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore")

    # A typo ("prodution") must not silently run a server without the production checks.
    REGISTRE_ENV: Literal["development", "test", "production"] = Field(
        "development",
        description="`production` turns on the safety checks, secure cookies, HSTS, HTTPS redirect "
        "(`development` or `test` otherwise).",
    )
    SECRET_KEY: str | None = Field(None, description="Django's secret; required (≥ 32 characters) in production.")
    DEBUG: Flag | None = Field(None, description="Django debug pages (default: on, off in production).")
    ALLOWED_HOSTS: Annotated[list[str] | None, NoDecode, BeforeValidator(_comma_separated)] = Field(
        None, description="Comma-separated host names served (default: local names, none in production)."
    )
    CSRF_TRUSTED_ORIGINS: CommaList = Field([], description="Comma-separated origins trusted behind a proxy.")
    DATABASE_URL: str = Field("", description="Connection of the application role (default: embedded server).")
    DATABASE_OWNER_URL: str | None = Field(
        None, description="Role that owns the schema and runs `migrate` (default: DATABASE_URL)."
    )
    REDIS_URL: str = Field("redis://127.0.0.1:6390/0", description="Celery broker.")

    INFERENCE_URL: str = Field("", description="OpenAI-compatible generation server (none: offline mode).")
    INFERENCE_API_KEY: str = Field("", description="Key of INFERENCE_URL.")
    INFERENCE_MODEL: str = Field("tgi", description="Model name sent in chat requests (TGI ignores it).")
    INFERENCE_ROUTES: Annotated[list[dict], NoDecode, BeforeValidator(_routes)] = Field(
        [], description="JSON list of extra servers per task."
    )
    INFERENCE_TIMEOUT_SECONDS: Number = Field(60, description="Connect/read timeout of generation calls.")
    INFERENCE_MAX_CONCURRENCY: Count = Field(
        16, description="Generation calls in flight per route, across all processes."
    )
    INFERENCE_SLOT_WAIT_SECONDS: Number = Field(30, description="How long a call waits for a free slot.")
    INFERENCE_RETRIES: Count = Field(2, description="Retries per route on transient errors.")
    INFERENCE_RETRY_BACKOFF_SECONDS: Number = Field(0.5, description="Base of the exponential retry backoff.")
    INFERENCE_BREAKER_FAILURES: Count = Field(5, description="Consecutive failures that open a route's circuit.")
    INFERENCE_BREAKER_COOLDOWN_SECONDS: Number = Field(30, description="How long an open circuit skips its route.")
    INFERENCE_WH_PER_1K_TOKENS: Number = Field(1.0, description="Estimated energy per 1,000 generated tokens.")
    INFERENCE_GRID_GCO2_PER_KWH: Number = Field(56, description="Carbon intensity of the electricity used.")
    EMBEDDINGS_URL: str = Field("", description="text-embeddings-inference server (none: local CPU model).")
    EMBEDDINGS_API_KEY: str = Field("", description="Key of EMBEDDINGS_URL.")
    EMBEDDINGS_MODEL_ID: str = Field("intfloat/multilingual-e5-small", description="Embedding model (384 dims).")
    EMBEDDINGS_TIMEOUT_SECONDS: Count = Field(30, description="Timeout of embedding and rerank calls.")
    RERANK_URL: str = Field("", description="TEI server with a cross-encoder (none: no reranking).")

    DOCUMENT_MAX_UPLOAD_MB: Count = Field(50, description="Largest file accepted.")
    DOCUMENT_MAX_PAGES: Count = Field(1000, description="Longest document accepted.")
    DOCUMENT_MAX_FILES_PER_UPLOAD: Count = Field(200, description="Files in one upload (zip members included).")
    CHUNK_MAX_TOKENS: Count = Field(480, description="Passage size, in estimated embedder tokens.")
    CHUNK_OVERLAP_TOKENS: Count = Field(60, description="Passage overlap, in estimated embedder tokens.")
    DELIB_IMPORT_MAX_MB: Count = Field(100, description="Largest SCDL file imported (upload or URL).")
    DELIB_FETCH_ATTACHMENTS: Flag = Field(True, description="After an import, fetch and index each act's PDF.")
    DELIB_FETCH_TIMEOUT_SECONDS: Count = Field(30, description="Timeout of SCDL URL and act downloads.")
    DELIB_ATTACHMENT_MAX_MB: Count | None = Field(
        None, description="Largest act downloaded (default: DOCUMENT_MAX_UPLOAD_MB)."
    )
    DELIB_FETCH_ALLOW_PRIVATE_HOSTS: Flag = Field(False, description="Allow downloads from private addresses.")
    DELIB_ROUTING_USE_MODEL: Flag = Field(False, description="Let the generative model pick the matière.")
    MINUTES_MATIERE_SECONDS: Count = Field(
        60,
        description="Time per job for matière suggestions on deliberations extracted from minutes; 0 turns them off.",
    )
    ASSISTANT_MONTHLY_TOKEN_QUOTA: Count = Field(
        2_000_000, description="Tokens an authority may use per calendar month; 0 for no limit."
    )
    ASSISTANT_SOURCES: Count = Field(6, description="Passages given to the model per question.")
    INBOX_REPLY_DAYS: Annotated[int, Field(ge=1, le=60)] = Field(
        5, description="Working days an authority gives itself to answer a citizen's message (its own value wins)."
    )
    INBOX_RETENTION_MONTHS: Annotated[int, Field(ge=1, le=120)] = Field(
        24, description="Months a closed message is kept before a nightly job deletes it (its own value wins)."
    )
    INBOX_FORM_RATE: Annotated[str, Field(pattern=r"^\d+/\d*[smhd]$")] = Field(
        "10/h",
        description="Posts one IP address may make to a public form, refused ones included (django-ratelimit rate).",
    )
    TRUSTED_PROXIES: Annotated[int, Field(ge=0, le=5)] = Field(
        0, description="Reverse proxies in front of the app: the client's address is read from X-Forwarded-For."
    )
    ALTCHA_HMAC_KEY: str = Field("", description="Key signing the anti-bot challenges (default: from SECRET_KEY).")
    ALTCHA_MAX_NUMBER: Annotated[int, Field(ge=1_000, le=10_000_000)] = Field(
        100_000, description="Difficulty of the anti-bot proof of work (about a second of a phone's CPU at most)."
    )
    TESSERACT_CMD: str = Field("tesseract", description="Tesseract program for OCR of scanned pages.")

    CELERY_TASK_ALWAYS_EAGER: Flag = Field(False, description="Run tasks in-process.")
    CELERY_VISIBILITY_TIMEOUT_SECONDS: Count = Field(
        3600, description="After this, a task whose worker died is given to another worker."
    )
    CELERY_IMPORTS: CommaList = Field([], description="Extra task modules a worker loads.")
    READINESS_TIMEOUT_SECONDS: Count = Field(2, description="Timeout of each /readyz probe.")
    JOB_STALE_AFTER_MINUTES: Count = Field(60, description="A running job silent this long is marked failed.")
    JOB_RETRY_BASE_SECONDS: Number = Field(5, description="First retry delay of a job after a transient error.")
    REGISTRE_VAR_DIR: Path = Field(
        BASE_DIR / "var", description="Local state: embedded database and Redis, static files, media."
    )
    MEDIA_ROOT: Path | None = Field(None, description="Uploaded files (default: media under REGISTRE_VAR_DIR).")

    OIDC_RP_CLIENT_ID: str = Field("", description="Turns on ProConnect / OpenID Connect login.")
    OIDC_RP_CLIENT_SECRET: str = Field("", description="Client secret at the provider.")
    OIDC_OP_AUTHORIZATION_ENDPOINT: str = Field("", description="Provider endpoint (from its discovery document).")
    OIDC_OP_TOKEN_ENDPOINT: str = Field("", description="Provider endpoint (from its discovery document).")
    OIDC_OP_USER_ENDPOINT: str = Field("", description="Provider endpoint (from its discovery document).")
    OIDC_OP_JWKS_ENDPOINT: str = Field("", description="Provider endpoint (from its discovery document).")
    OIDC_OP_LOGOUT_ENDPOINT: str = Field("", description="Provider endpoint (from its discovery document).")
    OIDC_RP_SIGN_ALGO: str = Field("RS256", description="ProConnect's signing algorithm.")
    OIDC_RP_SCOPES: str = Field("openid email given_name usual_name", description="ProConnect's scopes.")
    OIDC_CREATE_USER: Flag = Field(True, description="Create an account on first ProConnect login.")

    EMAIL_HOST: str = Field("", description="SMTP server (none: mails printed on the console).")
    EMAIL_PORT: Count = Field(587, description="SMTP port.")
    EMAIL_HOST_USER: str = Field("", description="SMTP user.")
    EMAIL_HOST_PASSWORD: str = Field("", description="SMTP password.")
    EMAIL_USE_TLS: Flag = Field(True, description="SMTP with STARTTLS.")
    SITE_URL: str = Field(
        "http://localhost:8000", description="Public address of the site, for links in e-mails (rating a reply)."
    )
    DEFAULT_FROM_EMAIL: str = Field("Registre <ne-pas-repondre@registre.localhost>", description="Sender of mails.")
    SECURE_HSTS_SECONDS: Count = Field(31_536_000, description="HSTS duration (production only).")
    SECURE_SSL_REDIRECT: Flag = Field(True, description="Redirect HTTP to HTTPS (production only).")
    LOG_LEVEL: LogLevel = Field("INFO", description="Root log level.")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ImproperlyConfigured(describe_errors(exc)) from None
        if self.production:
            check_production(self)

    @property
    def production(self) -> bool:
        return self.REGISTRE_ENV == "production"

    @field_validator("*", mode="before")
    @classmethod
    def _blank_means_default(cls, value: Any, info: ValidationInfo) -> Any:
        # env_ignore_empty only skips "": a value of spaces also means the default, as it always has.
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return cls.model_fields[info.field_name].default
        return value

    @model_validator(mode="after")
    def _follow_other_variables(self) -> "Environment":
        if self.DEBUG is None:
            self.DEBUG = not self.production
        if self.SECRET_KEY is None:
            self.SECRET_KEY = "" if self.production else INSECURE_SECRET_KEY
        if self.ALLOWED_HOSTS is None:
            self.ALLOWED_HOSTS = [] if self.production else list(LOCAL_HOSTS)
        if self.DATABASE_OWNER_URL is None:
            self.DATABASE_OWNER_URL = self.DATABASE_URL
        if self.DELIB_ATTACHMENT_MAX_MB is None:
            self.DELIB_ATTACHMENT_MAX_MB = self.DOCUMENT_MAX_UPLOAD_MB
        if self.MEDIA_ROOT is None:
            self.MEDIA_ROOT = self.REGISTRE_VAR_DIR / "media"
        return self


OWN_ERRORS = {"flag", "routes", "routes_json"}  # raised above, their message already says what is expected
EXPECTED = {
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "greater_than_equal": "must be at least {ge:g}",
    "literal_error": "must be one of {expected}",
}


def describe_errors(error: ValidationError) -> str:
    """One line per bad variable: its name, what it expects and (unless it may hold a secret) what it got."""
    problems = []
    for item in error.errors():
        name = str(item["loc"][0])
        if item["type"] in OWN_ERRORS:
            expected = item["msg"]
        elif item["type"] in EXPECTED:
            expected = EXPECTED[item["type"]].format(**item.get("ctx", {}))
        else:
            expected = f"is invalid ({item['msg']})"
        got = "" if name in NOT_ECHOED else f", got {item['input']!r}"
        problems.append(f"{name} {expected}{got}")
    return "; ".join(problems)


def check_production(env: Environment) -> None:
    """Refuse to start in production with a setting that is unsafe there, naming the variable."""
    problems = []
    if not env.SECRET_KEY or env.SECRET_KEY == INSECURE_SECRET_KEY or len(env.SECRET_KEY) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if env.DEBUG:
        problems.append("DEBUG must be false in production")
    if not env.ALLOWED_HOSTS or "*" in env.ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must list the public host names (no '*')")
    if not env.DATABASE_URL:
        problems.append("DATABASE_URL must point at the production database")
    if problems:
        raise ImproperlyConfigured("Refusing to start with REGISTRE_ENV=production: " + "; ".join(problems) + ".")
