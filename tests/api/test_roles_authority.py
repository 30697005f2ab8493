"""Role matrix of `/api/v1/authority/`: every caller reads the authority it acts for; only its
administrators change it. Another authority's administrator reaches only its own."""

import pytest

from apps.tenants.models import Authority

from . import matrix

pytestmark = pytest.mark.django_db


@matrix.action(
    "api:api-authority",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_every_caller_reads_the_authority_it_acts_for(caller):
    response = caller.call()
    if caller.allowed:
        assert response.json()["id"] == caller.authority.pk
        assert response.json()["slug"] == caller.authority.slug


@matrix.action(
    "api:api-authority",
    "PATCH",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=200,
)
def test_only_administrators_change_their_authority(caller, authority):
    response = caller.call(data={"population": 1234})
    populations = dict(Authority.objects.values_list("pk", "population"))
    if caller.allowed:
        assert response.json()["population"] == 1234
        assert populations[caller.authority.pk] == 1234
    changed_ours = caller.allowed and not caller.stranger
    assert (populations[authority.pk] == 1234) is changed_ours
