"""Probes: /healthz says the process lives; /readyz checks every dependency, with JSON detail."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client


@pytest.fixture
def health_server():
    """A loopback HTTP server answering /health like TGI and TEI do."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_healthz_answers_without_touching_the_database():
    response = Client().get("/healthz")  # no django_db mark: a query would fail this test
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_dependency(settings):
    settings.INFERENCE_URL = settings.EMBEDDINGS_URL = ""
    body = Client().get("/readyz").json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["detail"].startswith("pgvector 0.8")
    assert body["checks"]["broker"]["status"] == "ok"
    assert body["checks"]["inference"]["status"] == "disabled"
    assert body["checks"]["embeddings"]["status"] == "local"


@pytest.mark.django_db
def test_readyz_checks_configured_inference_and_embeddings_servers(settings, health_server):
    settings.INFERENCE_URL = settings.EMBEDDINGS_URL = health_server
    body = Client().get("/readyz").json()
    assert body["checks"]["inference"]["status"] == "ok"
    assert body["checks"]["embeddings"]["status"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("setting", ["REDIS_URL", "INFERENCE_URL"])
def test_readyz_is_503_when_a_dependency_is_down(settings, setting):
    setattr(settings, setting, "redis://127.0.0.1:1/0" if setting == "REDIS_URL" else "http://127.0.0.1:1")
    settings.READINESS_TIMEOUT_SECONDS = 1
    response = Client().get("/readyz")
    assert response.status_code == 503
    name = {"REDIS_URL": "broker", "INFERENCE_URL": "inference"}[setting]
    assert response.json()["checks"][name]["status"] == "error"
