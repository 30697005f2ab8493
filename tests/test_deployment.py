"""Guard rails for what cannot run here: compose.yaml and the Dockerfile, production settings,
migrations in step with the models, the OpenAPI schema."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_the_whole_production_stack(compose):
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "inference", "embeddings"} <= set(services)
    for name, service in services.items():
        if name != "migrate":
            assert "healthcheck" in service, name
    assert "pgvector" in services["postgres"]["image"]
    assert (ROOT / "deploy/postgres/10-application-role.sh").exists()


def test_compose_web_and_workers_wait_for_migrations_and_run_as_the_application_role(compose):
    services = compose["services"]
    for name in ("web", "worker", "worker-generation", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        environment = services[name]["environment"]
        assert environment["REGISTRE_ENV"] == "production"
        assert environment["DATABASE_URL"].startswith("postgresql://registre_app:")
        assert environment["DATABASE_OWNER_URL"] != environment["DATABASE_URL"]
        assert environment["INFERENCE_URL"] and environment["EMBEDDINGS_URL"] and environment["REDIS_URL"]
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    generation = services["worker-generation"]["command"]
    assert generation[:4] == ["celery", "-A", "config", "worker"] and "--pool=threads" in generation
    assert generation[generation.index("-Q") + 1] == settings.GENERATION_QUEUE
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_compose_inference_reserves_a_gpu_and_takes_its_model_from_the_environment(compose):
    inference = compose["services"]["inference"]
    devices = inference["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert "${INFERENCE_MODEL_ID" in " ".join(inference["command"])
    assert "${EMBEDDINGS_MODEL_ID" in " ".join(compose["services"]["embeddings"]["command"])


def test_dockerfile_builds_the_app_and_does_not_run_as_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11" in dockerfile
    assert "collectstatic" in dockerfile and "\nUSER registre" in dockerfile


def run_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


GOOD_PRODUCTION = {
    "REGISTRE_ENV": "production",
    "SECRET_KEY": "x" * 50,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "registre.example.fr",
    "DATABASE_URL": "postgresql://app@db/registre",
}


@pytest.mark.parametrize(
    ("override", "variable"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "registre-local-only-insecure-key"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 31}, "SECRET_KEY"),
        ({"DEBUG": "true"}, "DEBUG"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_with_an_unsafe_setting_and_names_it(override, variable):
    result = run_settings(**{**GOOD_PRODUCTION, **override})
    assert result.returncode != 0
    assert "Refusing to start with REGISTRE_ENV=production" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_a_value_that_cannot_be_read_stops_the_start_and_names_its_variable():
    result = run_settings(INFERENCE_TIMEOUT_SECONDS="abc", INFERENCE_ROUTES="[")
    assert result.returncode != 0
    last_line = result.stderr.splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and "INFERENCE_TIMEOUT_SECONDS must be a number, got 'abc'" in last_line
    assert "INFERENCE_ROUTES must be a JSON list of routes" in last_line


def test_production_starts_with_safe_settings():
    result = run_settings(**GOOD_PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.django_db(databases=["default", "owner"])
def test_migrations_are_in_step_with_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_openapi_schema_lists_the_api_and_its_key_authentication():
    output = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=output)
    schema = yaml.safe_load(output.getvalue())
    for path in (
        "/api/v1/jobs/",
        "/api/v1/jobs/{id}/",
        "/api/v1/api-keys/",
        "/api/v1/members/",
        "/api/v1/authority/",
        "/api/v1/me/",
        "/api/v1/jobs/diagnostic/",
        "/api/v1/documents/",
        "/api/v1/documents/{id}/reindex/",
        "/api/v1/collections/",
        "/api/v1/search/",
    ):
        assert path in schema["paths"], path
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())


@pytest.mark.django_db
def test_swagger_ui_is_served_without_any_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
