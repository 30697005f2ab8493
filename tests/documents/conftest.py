"""Fixtures of the documents tests (files and paths: support.py)."""

import pytest

from apps.tenants.models import Membership


@pytest.fixture
def agent_client(authority, member, client_for):
    return client_for(member(authority, role=Membership.Role.AGENT))
