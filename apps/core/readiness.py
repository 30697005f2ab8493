"""Checks of what Registre depends on: database (and its role), broker, inference, embeddings.

Each returns {"status": "ok" | "disabled" | "local" | "error", "detail": ...}; "error" means
not ready. Used by /readyz and by the diagnostic job.
"""

import time

import httpx
import redis
from django.conf import settings
from django.db import connection

OK, ERROR, DISABLED, LOCAL = "ok", "error", "disabled", "local"


def _timed(check):
    started = time.monotonic()
    try:
        result = check()
    except Exception as exc:  # noqa: BLE001 - a probe reports failures, it does not raise them
        result = {"status": ERROR, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        (bypasses_rls,) = cursor.fetchone()
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    if bypasses_rls:
        return {"status": ERROR, "detail": "the application role bypasses row-level security"}
    return {"status": OK, "detail": f"pgvector {row[0]}" if row else "pgvector not installed"}


def check_broker() -> dict:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.READINESS_TIMEOUT_SECONDS,
        socket_timeout=settings.READINESS_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"status": OK}


def _check_http(url: str, api_key: str, off_status: str, off_detail: str) -> dict:
    if not url:
        return {"status": off_status, "detail": off_detail}
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    response = httpx.get(url.rstrip("/") + "/health", headers=headers, timeout=settings.READINESS_TIMEOUT_SECONDS)
    if response.status_code != 200:
        return {"status": ERROR, "detail": f"/health answered HTTP {response.status_code}"}
    return {"status": OK}


def check_inference() -> dict:
    return _check_http(
        settings.INFERENCE_URL, settings.INFERENCE_API_KEY, DISABLED, "INFERENCE_URL not set: offline (extractive) mode"
    )


def check_embeddings() -> dict:
    return _check_http(
        settings.EMBEDDINGS_URL, settings.EMBEDDINGS_API_KEY, LOCAL, "EMBEDDINGS_URL not set: local CPU model"
    )


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "inference": check_inference,
    "embeddings": check_embeddings,
}


def run_checks() -> dict:
    return {name: _timed(check) for name, check in CHECKS.items()}
