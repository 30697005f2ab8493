"""Reading settings from environment variables, and refusing unsafe production settings.

Every variable is documented in the README's configuration table.
"""

import os

from django.core.exceptions import ImproperlyConfigured

INSECURE_SECRET_KEY = "registre-local-only-insecure-key"  # noqa: S105 - the default production refuses


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def check_production(*, secret_key: str, debug: bool, allowed_hosts: list[str], database_url: str) -> None:
    """Refuse to start in production with a setting that is unsafe there, naming the variable."""
    problems = []
    if not secret_key or secret_key == INSECURE_SECRET_KEY or len(secret_key) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if debug:
        problems.append("DEBUG must be false in production")
    if not allowed_hosts or "*" in allowed_hosts:
        problems.append("ALLOWED_HOSTS must list the public host names (no '*')")
    if not database_url:
        problems.append("DATABASE_URL must point at the production database")
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with REGISTRE_ENV=production: " + "; ".join(problems) + "."
        )
