"""Role matrix of `/api/v1/members/`: only an authority's administrators see and manage who has access;
another authority's administrator never reaches this authority's members."""

import pytest

from apps.tenants.models import Membership

from . import matrix
from .objects import exists, read

pytestmark = pytest.mark.django_db
Role = Membership.Role
NEWCOMER = "nouvel.agent@mairie.example.fr"


@matrix.action(
    "api:member-list", "GET", reader=403, agent=403, administrator=200, read_key=403, write_key=403, other_authority=200
)
def test_administrators_list_their_own_authority_members(caller, authority, member):
    colleague = member(authority, role=Role.AGENT)
    response = caller.call()
    if caller.allowed:
        emails = {row["email"] for row in response.json()["results"]}
        expected = {m.user.email for m in read(Membership, caller.authority)}
        assert emails == expected and caller.user.email in emails
        assert (colleague.email in emails) is not caller.stranger


@matrix.action(
    "api:member-list",
    "POST",
    reader=403,
    agent=403,
    administrator=201,
    read_key=403,
    write_key=403,
    other_authority=201,
)
def test_administrators_add_members_to_their_own_authority(caller, authority):
    response = caller.call(data={"email": NEWCOMER, "role": "reader"})
    added_here = exists(Membership, authority, user__email=NEWCOMER)
    assert added_here is (caller.allowed and not caller.stranger)
    if caller.allowed:
        assert response.json()["email"] == NEWCOMER and response.json()["role"] == "reader"
        assert exists(Membership, caller.authority, user__email=NEWCOMER, role=Role.READER)


@matrix.action(
    "api:member-detail",
    "GET",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_read_a_member(caller, authority, member):
    colleague = member(authority, role=Role.AGENT)
    membership = read(Membership, authority, user=colleague)[0]
    response = caller.call(membership.pk)
    if caller.allowed:
        body = response.json()
        assert (body["id"], body["email"], body["role"]) == (membership.pk, colleague.email, "agent")


@matrix.action(
    "api:member-detail",
    "PATCH",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_change_a_member_role(caller, authority, member):
    colleague = member(authority, role=Role.AGENT)
    membership = read(Membership, authority, user=colleague)[0]
    response = caller.call(membership.pk, data={"role": "reader"})
    role = read(Membership, authority, pk=membership.pk)[0].role
    assert role == (Role.READER if caller.allowed else Role.AGENT)
    if caller.allowed:
        administering = dict.fromkeys(("list", "retrieve", "create", "update", "destroy"), True)
        assert response.json() == {"role": "reader", "abilities": administering}


@matrix.action(
    "api:member-detail",
    "DELETE",
    reader=403,
    agent=403,
    administrator=204,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_remove_a_member(caller, authority, member):
    colleague = member(authority, role=Role.AGENT)
    membership = read(Membership, authority, user=colleague)[0]
    caller.call(membership.pk)
    assert exists(Membership, authority, pk=membership.pk) is not caller.allowed
