"""pytest plugin (loaded with `-p config.pytest_services`): real services for the test suite.

Runs before Django settings load: starts the embedded PostgreSQL and Redis when DATABASE_URL /
REDIS_URL are not given, and stops at the end what it started. Tests use Redis database 1 so a
worker of a local `make run` (database 0) never picks up their tasks.
"""

import os

from config import localstack

_started: list = []

if not os.environ.get("PYTEST_XDIST_WORKER"):
    _env, _started = localstack.service_environment(redis_db=1)
    os.environ.update(_env)
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("REGISTRE_ENV", "test")


def pytest_unconfigure(config):
    """Stop what this run started; a PostgreSQL that was already running (make run) stays up."""
    for service in _started:
        if getattr(service, "started_here", True):
            service.stop()
