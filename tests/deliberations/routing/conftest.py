"""Fixtures of the routing tests: a fresh router cache for each test."""

import pytest

from apps.deliberations.routing import training


@pytest.fixture(autouse=True)
def fresh_router_cache():
    """Fitted routers are cached per authority id, and ids restart with each test database."""
    training._routers.clear()
    yield
    training._routers.clear()
