"""The `caller` of the role matrices (tests/api/matrix.py): a real member with a real membership, a
client sending a real API key, or nobody."""

import pytest
from rest_framework.test import APIClient

from .matrix import ANONYMOUS, OTHER_AUTHORITY, ROLES, Caller


@pytest.fixture
def caller(request, authority, other_authority, member, api_client_for, key_client):
    name, declared = request.param
    if name == ANONYMOUS:
        return Caller(name, declared, APIClient(), authority=None, user=None)
    if name.endswith("_key"):
        client, _ = key_client(authority, scope=name.removesuffix("_key"))
        return Caller(name, declared, client, authority=authority, user=None)
    acting_for = other_authority if name == OTHER_AUTHORITY else authority
    user = member(acting_for, role=ROLES[name])
    return Caller(name, declared, api_client_for(user), authority=acting_for, user=user)
