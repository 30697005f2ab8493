"""What every API caller without a role gets: a JSON 401 with the Bearer challenge, or a 403 that says why.
Each resource's full role matrix is in tests/api/."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_anonymous_call_gets_a_json_401_with_a_french_message():
    response = APIClient().get("/api/v1/jobs/")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_user_without_any_authority_gets_403_with_reason(api_client_for):
    from .factories import UserFactory

    response = api_client_for(UserFactory()).get("/api/v1/jobs/")
    assert response.status_code == 403
    assert "Aucune collectivité" in response.json()["detail"]
