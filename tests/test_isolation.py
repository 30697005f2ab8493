"""An authority's people and keys never reach another authority's objects: 404, not 403."""

import pytest

from apps.accounts.services import create_api_key
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .factories import JobFactory, MembershipFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def foreign(other_authority):
    """Objects that belong to authority B."""
    job = JobFactory(authority=other_authority, state="failed")
    membership = MembershipFactory(authority=other_authority, role=Role.AGENT)
    with tenant_context(other_authority.pk):
        key, _ = create_api_key(authority=other_authority, name="B", scope="read")
    return {"job": job, "membership": membership, "key": key}


def test_user_of_a_gets_404_on_b_objects_through_the_api(authority, foreign, member, api_client_for):
    client = api_client_for(member(authority, role=Role.ADMINISTRATOR))
    assert client.get(f"/api/v1/jobs/{foreign['job'].pk}/").status_code == 404
    assert client.post(f"/api/v1/jobs/{foreign['job'].pk}/retry/").status_code == 404
    assert client.get(f"/api/v1/members/{foreign['membership'].pk}/").status_code == 404
    assert client.patch(f"/api/v1/members/{foreign['membership'].pk}/", {"role": "reader"}).status_code == 404
    assert client.delete(f"/api/v1/api-keys/{foreign['key'].pk}/").status_code == 404
    assert client.get("/api/v1/jobs/").json()["count"] == 0


def test_user_of_a_gets_404_on_b_objects_through_pages(authority, foreign, member, client_for):
    client = client_for(member(authority, role=Role.ADMINISTRATOR))
    assert client.post(f"/travaux/{foreign['job'].pk}/relancer/").status_code == 404
    assert client.post(f"/parametres/membres/{foreign['membership'].pk}/", {"role": "reader"}).status_code == 404
    assert client.post(f"/parametres/cles-api/{foreign['key'].pk}/revoquer/").status_code == 404
    assert foreign["membership"].user.email not in client.get("/parametres/membres/").content.decode()


def test_user_of_a_cannot_switch_to_b_or_to_an_unknown_authority(authority, other_authority, member, client_for):
    client = client_for(member(authority))
    assert client.post(f"/collectivite/{other_authority.slug}/choisir/").status_code == 404
    assert client.post("/collectivite/n-existe-pas/choisir/").status_code == 404


def test_key_of_a_cannot_read_b(authority, foreign, key_client):
    client, _ = key_client(authority, scope="write")
    assert client.get(f"/api/v1/jobs/{foreign['job'].pk}/").status_code == 404
    assert client.get("/api/v1/jobs/").json()["count"] == 0
    assert client.get("/api/v1/authority/").json()["slug"] == authority.slug


def test_person_in_both_authorities_sees_each_one_in_turn(authority, other_authority, member, client_for):
    user = member(authority, role=Role.AGENT)
    member(other_authority, role=Role.READER, user=user)
    JobFactory(authority=authority)
    JobFactory.create_batch(2, authority=other_authority)
    client = client_for(user)

    first = client.get("/api/v1/jobs/").json()
    assert first["count"] == 1
    switched = client.post(f"/collectivite/{other_authority.slug}/choisir/")
    assert switched.status_code == 302
    assert client.get("/api/v1/jobs/").json()["count"] == 2
    me = client.get("/api/v1/me/").json()
    assert me["authority"]["slug"] == other_authority.slug and me["role"] == "reader"
    assert {m["authority"] for m in me["memberships"]} == {authority.slug, other_authority.slug}
