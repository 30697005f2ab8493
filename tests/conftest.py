"""Fixtures: the test database is created and migrated by the owner role; tests then run as the
application role, so row-level security is in force exactly as in production."""

import os
import uuid

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import create_api_key
from apps.inference import limiter
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .factories import AuthorityFactory, MembershipFactory
from .fake_inference import FakeInference

Role = Membership.Role


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    owner, app = connections["owner"], connections["default"]
    old_name = owner.settings_dict["NAME"]
    # One test database per run, so that two runs on one machine (or a run beside `make run`) never collide.
    owner.settings_dict["TEST"]["NAME"] = f"test_{old_name}_{os.getpid()}"
    with django_db_blocker.unblock():
        test_name = owner.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        app.close()
        app.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = test_name
        with owner.cursor() as cursor:
            # Transactional tests flush tables between tests; production never grants TRUNCATE.
            cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app.settings_dict["USER"]}"')
    yield
    with django_db_blocker.unblock():
        app.close()
        owner.creation.destroy_test_db(old_name, verbosity=0)


@pytest.fixture
def authority(db):
    return AuthorityFactory(name="Commune A", slug="commune-a")


@pytest.fixture
def other_authority(db):
    return AuthorityFactory(name="Commune B", slug="commune-b")


@pytest.fixture
def member(db):
    """member(authority, role) -> a user with that role in that authority."""

    def make(authority, role=Role.AGENT, user=None):
        kwargs = {"user": user} if user else {}
        return MembershipFactory(authority=authority, role=role, **kwargs).user

    return make


@pytest.fixture
def client_for(db):
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for(db):
    def make(user):
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def key_client(db):
    """key_client(authority, scope) -> (APIClient sending that authority's new key, plaintext)."""

    def make(authority, scope="read"):
        with tenant_context(authority.pk):
            _, plaintext = create_api_key(authority=authority, name="Intégration", scope=scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        return client, plaintext

    return make


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded and generated files of each test go to its own folder, never to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the jobs queued by a block when it commits (Celery is eager in these tests)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture(autouse=True)
def fresh_redis_state():
    """Generation streams and usage counters are keyed by database ids, which restart with each
    test database: drop those a previous run left in the test Redis; and the public forms' rate-limit
    counters and spent anti-bot solutions, which would carry one test's posts into the next."""
    client = limiter.redis_client()
    for pattern in ("registre:generation:*", "registre:usage:*", ":1:rl:*", "registre:altcha:*"):
        keys = list(client.scan_iter(pattern))
        if keys:
            client.delete(*keys)


@pytest.fixture
def isolated_inference_keys(monkeypatch):
    """Slots and circuit breakers of this test's own in Redis (concurrent runs share the server)."""
    monkeypatch.setattr(limiter, "KEY_PREFIX", f"test-{uuid.uuid4().hex}")
    yield
    client = limiter.redis_client()
    keys = list(client.scan_iter(f"{limiter.KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def fake_llm(settings, isolated_inference_keys):
    """The fake TGI on loopback, configured as the platform's inference server, with quick retries.
    Tests change its `answer` (a string, a callable or a list) or script failures with `fail_next`."""
    with FakeInference(answer="Réponse.") as fake:
        settings.INFERENCE_URL = fake.url
        settings.INFERENCE_ROUTES = []
        settings.INFERENCE_RETRIES = 1
        settings.INFERENCE_RETRY_BACKOFF_SECONDS = 0.01
        settings.INFERENCE_TIMEOUT_SECONDS = 5
        yield fake


@pytest.fixture
def offline(settings):
    """No inference server: the products' offline (extractive, rules-only) modes."""
    settings.INFERENCE_URL = ""
    settings.INFERENCE_ROUTES = []


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium per test module (tests needing it are marked `needs("chromium")`); not per
    session: while it lives, Playwright's event loop runs in the main thread."""
    from playwright.sync_api import sync_playwright

    from .browser import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(browser, live_server):
    """signed_in(user) -> a browser tab where that user is signed in; closed after the test."""
    from .browser import sign_in

    pages = []

    def open_tab(user):
        pages.append(sign_in(browser, live_server, user))
        return pages[-1]

    yield open_tab
    for page in pages:
        page.close()
