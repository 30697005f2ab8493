"""The environment is read by one typed class: every variable documented, a bad value named with what it
expects, an empty value meaning the default, and the production checks (tests/test_deployment.py starts
the real settings module in a subprocess)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.settings.environment import INSECURE_SECRET_KEY, LOCAL_HOSTS, Environment

ROOT = Path(__file__).resolve().parent.parent
VARIABLES = set(Environment.model_fields)
# Read by `make run` before Django starts, so they are no field of Environment.
LAUNCHER_VARIABLES = {"REGISTRE_HOST", "REGISTRE_PORT", "REGISTRE_REDIS_PORT"}
# Variables that become a Django setting under another name or shape (every other one keeps its name).
DERIVED_SETTINGS = {
    "REGISTRE_VAR_DIR": "VAR_DIR",
    "DOCUMENT_MAX_UPLOAD_MB": "DOCUMENT_MAX_UPLOAD_BYTES",
    "DELIB_IMPORT_MAX_MB": "DELIB_IMPORT_MAX_BYTES",
    "DELIB_ATTACHMENT_MAX_MB": "DELIB_ATTACHMENT_MAX_BYTES",
    "CELERY_VISIBILITY_TIMEOUT_SECONDS": "CELERY_BROKER_TRANSPORT_OPTIONS",
    "LOG_LEVEL": "LOGGING",
}
PRODUCTION_ONLY_SETTINGS = {"SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"}


@pytest.fixture
def environ(monkeypatch):
    """An environment holding none of Registre's variables (the test run sets some); set the ones you need."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def readme_rows() -> dict[str, tuple[str, str]]:
    """Variable -> (its row's default cell, the whole row), from the README's configuration table."""
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = line.split("|")
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[1]):
                rows[name] = (cells[2], line)
    return rows


def test_every_variable_is_a_row_of_the_readme_table_and_every_row_a_variable():
    documented = set(readme_rows())
    assert VARIABLES - documented == set(), "add them to the README's configuration table"
    assert documented - LAUNCHER_VARIABLES - VARIABLES == set(), "add them to Environment, or remove the rows"
    launcher = (ROOT / "config/localstack.py").read_text()
    assert all(f'"{name}"' in launcher for name in LAUNCHER_VARIABLES)


def test_the_readme_states_each_plain_default():
    rows = readme_rows()
    for name, field in Environment.model_fields.items():
        default, row = rows[name]
        if isinstance(field.default, bool):
            assert re.search(r"\bon\b" if field.default else r"\boff\b", default), row
        elif isinstance(field.default, int | float | str) and field.default != "":
            spellings = {f"`{field.default}`", f"`{field.default:g}`" if not isinstance(field.default, str) else ""}
            assert any(spelling and spelling in default for spelling in spellings), (name, row)


def test_every_variable_has_a_description():
    assert [name for name, field in Environment.model_fields.items() if not field.description] == []


def test_every_variable_becomes_a_django_setting():
    for name in VARIABLES - PRODUCTION_ONLY_SETTINGS:
        assert hasattr(settings, DERIVED_SETTINGS.get(name, name)), name


def test_defaults_suit_a_local_run(environ):
    env = Environment()
    assert env.DEBUG is True and env.SECRET_KEY == INSECURE_SECRET_KEY and env.ALLOWED_HOSTS == LOCAL_HOSTS
    assert env.INFERENCE_TIMEOUT_SECONDS == 60.0 and isinstance(env.INFERENCE_TIMEOUT_SECONDS, float)
    assert env.INFERENCE_ROUTES == [] and env.CELERY_IMPORTS == [] and env.TESSERACT_CMD == "tesseract"


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_value_means_the_default(environ, value):
    for name in (
        "INFERENCE_TIMEOUT_SECONDS",
        "EMBEDDINGS_TIMEOUT_SECONDS",
        "DEBUG",
        "ALLOWED_HOSTS",
        "INFERENCE_ROUTES",
        "REDIS_URL",
        "INFERENCE_MODEL",
        "SECRET_KEY",
        "MEDIA_ROOT",
        "LOG_LEVEL",
    ):
        environ.setenv(name, value)
    env = Environment()
    assert env.INFERENCE_TIMEOUT_SECONDS == 60.0 and env.EMBEDDINGS_TIMEOUT_SECONDS == 30
    assert env.DEBUG is True and env.ALLOWED_HOSTS == LOCAL_HOSTS and env.INFERENCE_ROUTES == []
    assert env.REDIS_URL == "redis://127.0.0.1:6390/0" and env.INFERENCE_MODEL == "tgi"
    assert env.SECRET_KEY == INSECURE_SECRET_KEY and env.LOG_LEVEL == "INFO"
    assert env.MEDIA_ROOT == env.REGISTRE_VAR_DIR / "media"


def test_values_are_read_with_their_type(environ):
    environ.setenv("INFERENCE_TIMEOUT_SECONDS", " 12.5 ")
    environ.setenv("INFERENCE_RETRIES", "0")
    environ.setenv("ALLOWED_HOSTS", "registre.example.fr, www.registre.example.fr,")
    environ.setenv("CELERY_IMPORTS", "tests.tasks")
    environ.setenv("INFERENCE_ROUTES", '[{"name": "small", "url": "http://small:80", "tasks": ["classify"]}]')
    env = Environment()
    assert env.INFERENCE_TIMEOUT_SECONDS == 12.5 and env.INFERENCE_RETRIES == 0
    assert env.ALLOWED_HOSTS == ["registre.example.fr", "www.registre.example.fr"]  # commas, not JSON
    assert env.CELERY_IMPORTS == ["tests.tasks"]
    assert env.INFERENCE_ROUTES == [{"name": "small", "url": "http://small:80", "tasks": ["classify"]}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
    ],
)
def test_an_on_off_variable_takes_the_usual_words(environ, value, expected):
    environ.setenv("DELIB_FETCH_ATTACHMENTS", value)
    assert Environment().DELIB_FETCH_ATTACHMENTS is expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("INFERENCE_TIMEOUT_SECONDS", "abc", "INFERENCE_TIMEOUT_SECONDS must be a number, got 'abc'"),
        ("JOB_RETRY_BASE_SECONDS", "nan", "JOB_RETRY_BASE_SECONDS must be a finite number, got 'nan'"),
        ("EMBEDDINGS_TIMEOUT_SECONDS", "2.5", "EMBEDDINGS_TIMEOUT_SECONDS must be an integer, got '2.5'"),
        ("MINUTES_MATIERE_SECONDS", "1 minute", "MINUTES_MATIERE_SECONDS must be an integer, got '1 minute'"),
        ("INFERENCE_MAX_CONCURRENCY", "-1", "INFERENCE_MAX_CONCURRENCY must be at least 0, got '-1'"),
        ("DEBUG", "maybe", "DEBUG must be true or false (or 1/0, yes/no, on/off), got 'maybe'"),
        (
            "DELIB_FETCH_ATTACHMENTS",
            "t",
            "DELIB_FETCH_ATTACHMENTS must be true or false (or 1/0, yes/no, on/off), got 't'",
        ),
        ("INFERENCE_ROUTES", '{"name": "small"}', "INFERENCE_ROUTES must be a JSON list of routes, each an object"),
        ("INFERENCE_ROUTES", "[{", "INFERENCE_ROUTES must be a JSON list of routes (invalid JSON at line 1, column 3)"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL must be one of 'CRITICAL', "),
    ],
)
def test_a_bad_value_names_its_variable_and_what_it_expects(environ, variable, value, message):
    environ.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured) as raised:
        Environment()
    assert str(raised.value).startswith(message)


def test_every_bad_variable_is_named_in_one_message(environ):
    environ.setenv("INFERENCE_TIMEOUT_SECONDS", "abc")
    environ.setenv("EMAIL_PORT", "smtp")
    environ.setenv("EMAIL_USE_TLS", "maybe")
    with pytest.raises(ImproperlyConfigured) as raised:
        Environment()
    named = set(re.findall(r"\b[A-Z_]+\b", str(raised.value)))
    assert {"INFERENCE_TIMEOUT_SECONDS", "EMAIL_PORT", "EMAIL_USE_TLS"} <= named


def test_a_bad_routes_value_does_not_echo_its_api_key(environ):
    environ.setenv("INFERENCE_ROUTES", '[{"name": "small", "api_key": "route-secret"},]')
    with pytest.raises(ImproperlyConfigured) as raised:
        Environment()
    assert "INFERENCE_ROUTES" in str(raised.value) and "route-secret" not in str(raised.value)


def test_some_defaults_follow_another_variable(environ):
    environ.setenv("DATABASE_URL", "postgresql://app@db/registre")
    environ.setenv("DOCUMENT_MAX_UPLOAD_MB", "20")
    environ.setenv("REGISTRE_VAR_DIR", "/srv/registre")
    env = Environment()
    assert env.DATABASE_OWNER_URL == "postgresql://app@db/registre"
    assert env.DELIB_ATTACHMENT_MAX_MB == 20
    assert str(env.MEDIA_ROOT) == "/srv/registre/media"
    environ.setenv("DATABASE_OWNER_URL", "postgresql://owner@db/registre")
    environ.setenv("DELIB_ATTACHMENT_MAX_MB", "5")
    env = Environment()
    assert env.DATABASE_OWNER_URL == "postgresql://owner@db/registre" and env.DELIB_ATTACHMENT_MAX_MB == 5


SAFE_PRODUCTION = {
    "REGISTRE_ENV": "production",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "registre.example.fr",
    "DATABASE_URL": "postgresql://app@db/registre",
}


def test_production_turns_debug_off_and_keeps_no_local_default(environ):
    for name, value in SAFE_PRODUCTION.items():
        environ.setenv(name, value)
    env = Environment()
    assert env.production and env.DEBUG is False and env.ALLOWED_HOSTS == ["registre.example.fr"]


def test_production_names_every_unsafe_variable_at_once(environ):
    environ.setenv("REGISTRE_ENV", "production")
    environ.setenv("DEBUG", "on")
    with pytest.raises(ImproperlyConfigured) as raised:
        Environment()
    message = str(raised.value)
    assert message.startswith("Refusing to start with REGISTRE_ENV=production: ")
    for variable in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL"):
        assert variable in message
