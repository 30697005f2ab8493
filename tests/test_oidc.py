"""ProConnect / OpenID Connect: off by default, offered on the login page once configured."""

import pytest
from django.test import Client

from apps.accounts.oidc import RegistreOIDCBackend

from .factories import UserFactory

pytestmark = pytest.mark.django_db

PROVIDER = "https://identite.example.fr/api/v2"


def test_login_page_offers_proconnect_only_when_configured(settings):
    assert "ProConnect" not in Client().get("/connexion/").content.decode()
    settings.OIDC_ENABLED = True
    assert "S'identifier avec ProConnect" in Client().get("/connexion/").content.decode()


def test_proconnect_button_redirects_to_the_provider_with_our_client_id(settings):
    settings.OIDC_RP_CLIENT_ID = "registre-client"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{PROVIDER}/authorize"
    response = Client().get("/oidc/authenticate/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{PROVIDER}/authorize?")
    assert "client_id=registre-client" in response["Location"] and "nonce=" in response["Location"]


def test_backend_matches_people_by_email_and_creates_newcomers(settings):
    settings.OIDC_RP_CLIENT_ID = "registre-client"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{PROVIDER}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{PROVIDER}/userinfo"
    backend = RegistreOIDCBackend()
    existing = UserFactory(email="camille.martin@mairie.example.fr")
    claims = {"email": "Camille.Martin@Mairie.example.fr", "given_name": "Camille", "usual_name": "Martin"}
    assert list(backend.filter_users_by_claims(claims)) == [existing]

    created = backend.create_user(
        {"email": "nouvel.agent@mairie.example.fr", "given_name": "Dominique", "usual_name": "Durand"}
    )
    assert (created.email, created.get_full_name()) == ("nouvel.agent@mairie.example.fr", "Dominique Durand")
    assert not created.has_usable_password()
    assert not backend.filter_users_by_claims({"email": ""}).exists()
