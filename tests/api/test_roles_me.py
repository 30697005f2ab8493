"""Role matrix of `/api/v1/me/`: every identified caller learns who it is and for which authority it acts."""

import pytest

from . import matrix

pytestmark = pytest.mark.django_db


@matrix.action(
    "api:api-me", "GET", reader=200, agent=200, administrator=200, read_key=200, write_key=200, other_authority=200
)
def test_me_says_who_calls_and_for_which_authority(caller):
    response = caller.call()
    if not caller.allowed:
        return
    body = response.json()
    assert body["authority"]["slug"] == caller.authority.slug
    assert body["role"] == caller.role
    if caller.user is None:
        assert body["api_key"]["scope"] == caller.name.removesuffix("_key") and "user" not in body
    else:
        assert body["user"]["email"] == caller.user.email
        assert body["memberships"] == [
            {"authority": caller.authority.slug, "name": caller.authority.name, "role": caller.role}
        ]
