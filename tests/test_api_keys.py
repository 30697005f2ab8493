"""API keys: created by an administrator, shown once, stored hashed, scoped, revocable."""

import hashlib

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_key_lifecycle_create_use_revoke(authority, member, api_client_for):
    admin = api_client_for(member(authority, role=Membership.Role.ADMINISTRATOR))

    created = admin.post("/api/v1/api-keys/", {"name": "Logiciel des actes", "scope": "write"}, format="json")
    assert created.status_code == 201
    plaintext = created.json()["key"]
    assert plaintext.startswith(f"rgk_{authority.pk}_")

    with tenant_context(authority.pk):
        stored = ApiKey.objects.get(pk=created.json()["id"])
    secret = plaintext.rsplit("_", 1)[1]
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert plaintext not in str(vars(stored))  # only the hash is kept
    assert stored.last_used_at is None

    listed = admin.get("/api/v1/api-keys/").json()["results"]
    assert [k["prefix"] for k in listed] == [stored.prefix]
    assert "key" not in listed[0]  # never shown again

    integration = APIClient()
    integration.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    me = integration.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["authority"]["slug"] == authority.slug
    assert me.json()["role"] == "agent"
    with tenant_context(authority.pk):
        stored.refresh_from_db()
    assert stored.last_used_at is not None

    assert admin.delete(f"/api/v1/api-keys/{stored.pk}/").status_code == 204
    refused = integration.get("/api/v1/jobs/")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/json"
    assert refused.json() == {"detail": "Clé d'API invalide ou révoquée."}


@pytest.mark.parametrize(
    "header",
    [
        "Bearer n-importe-quoi",
        "Bearer rgk_1_000000000000_" + "0" * 40,
        "Bearer",
        "Bearer deux morceaux",
    ],
)
def test_invalid_key_gets_json_401(header, authority):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/jobs/")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_key_rewritten_with_another_authority_id_is_refused(authority, other_authority, key_client):
    _, plaintext = key_client(authority)
    forged = plaintext.replace(f"rgk_{authority.pk}_", f"rgk_{other_authority.pk}_", 1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/v1/me/").status_code == 401


def test_key_of_a_deactivated_authority_is_refused(authority, key_client):
    client, _ = key_client(authority)
    authority.is_active = False
    authority.save()
    assert client.get("/api/v1/me/").status_code == 401


def test_read_key_cannot_write_and_no_key_can_mint_keys(authority, key_client):
    read_client, _ = key_client(authority, scope="read")
    write_client, _ = key_client(authority, scope="write")
    assert read_client.post("/api/v1/jobs/diagnostic/").status_code == 403
    assert write_client.post("/api/v1/api-keys/", {"name": "x", "scope": "write"}).status_code == 403


def test_keys_page_shows_the_key_once_then_only_its_prefix(authority, member, client_for):
    client = client_for(member(authority, role=Membership.Role.ADMINISTRATOR))
    page = client.post("/parametres/cles-api/", {"name": "Site internet", "scope": "read"})
    assert page.status_code == 200
    with tenant_context(authority.pk):
        key = ApiKey.objects.get()
    body = page.content.decode()
    assert "elle ne sera plus jamais affichée" in body
    assert f"rgk_{authority.pk}_{key.prefix}_" in body
    again = client.get("/parametres/cles-api/").content.decode()
    assert key.prefix in again and f"rgk_{authority.pk}_{key.prefix}_" not in again

    revoked = client.post(f"/parametres/cles-api/{key.pk}/revoquer/", follow=True)
    assert "est révoquée" in revoked.content.decode()
    with tenant_context(authority.pk):
        assert ApiKey.objects.get().revoked_at is not None
