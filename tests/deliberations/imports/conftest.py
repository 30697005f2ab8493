"""Fixtures of the SCDL import tests: settings for imports, running the import's own jobs only."""

from contextlib import contextmanager

import pytest


@pytest.fixture(autouse=True)
def import_settings(settings, tmp_path):
    """Files in a scratch MEDIA_ROOT; acts' PDFs are fetched only by the tests about them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DELIB_FETCH_ATTACHMENTS = False
    settings.DELIB_FETCH_ALLOW_PRIVATE_HOSTS = True  # the loopback servers below
    settings.DELIB_FETCH_TIMEOUT_SECONDS = 2
    settings.JOB_RETRY_BASE_SECONDS = 0
    return settings


@pytest.fixture
def run_import_job(django_capture_on_commit_callbacks):
    """Run the jobs queued by a block (the import), but not the ones they queue in turn (classification,
    PDFs): those stay pending, their messages dropped with the test's transaction."""

    @contextmanager
    def run():
        with django_capture_on_commit_callbacks() as callbacks:
            yield
        for callback in callbacks:
            callback()

    return run
