"""Role matrix of `/api/v1/api-keys/`: only a signed-in administrator lists, mints, reads and revokes its
authority's keys (a key never mints keys); another authority's administrator never reaches ours."""

import pytest

from apps.accounts.models import ApiKey
from apps.accounts.services import create_api_key
from apps.tenants.context import tenant_context

from . import matrix
from .objects import exists, read

pytestmark = pytest.mark.django_db


def make_key(authority, name="Logiciel des actes") -> ApiKey:
    with tenant_context(authority.pk):
        return create_api_key(authority=authority, name=name, scope="read")[0]


@matrix.action(
    "api:api-key-list",
    "GET",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=200,
)
def test_administrators_list_their_own_authority_keys(caller, authority, other_authority):
    ours, theirs = make_key(authority), make_key(other_authority)
    response = caller.call()
    if caller.allowed:
        prefixes = {row["prefix"] for row in response.json()["results"]}
        assert prefixes == {(theirs if caller.stranger else ours).prefix}
        assert all("key" not in row for row in response.json()["results"])  # shown once, at creation


@matrix.action(
    "api:api-key-list",
    "POST",
    reader=403,
    agent=403,
    administrator=201,
    read_key=403,
    write_key=403,
    other_authority=201,
)
def test_administrators_mint_keys_for_their_own_authority(caller, authority):
    response = caller.call(data={"name": "SIG", "scope": "write"})
    assert exists(ApiKey, authority, name="SIG") is (caller.allowed and not caller.stranger)
    if caller.allowed:
        assert response.json()["key"].startswith(f"rgk_{caller.authority.pk}_")
        assert exists(ApiKey, caller.authority, name="SIG", scope="write")


@matrix.action(
    "api:api-key-detail",
    "GET",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_read_a_key_without_its_secret(caller, authority):
    key = make_key(authority)
    response = caller.call(key.pk)
    if caller.allowed:
        assert response.json()["prefix"] == key.prefix and "key" not in response.json()


@matrix.action(
    "api:api-key-detail",
    "DELETE",
    reader=403,
    agent=403,
    administrator=204,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_revoke_a_key(caller, authority):
    key = make_key(authority)
    caller.call(key.pk)
    revoked = read(ApiKey, authority, pk=key.pk)[0].revoked_at is not None
    assert revoked is caller.allowed
