"""Role matrix: what each kind of caller may do on each endpoint."""

import pytest
from rest_framework.test import APIClient

from apps.tenants.models import Membership

pytestmark = pytest.mark.django_db
Role = Membership.Role

CALLERS = ["anonymous", "reader", "agent", "administrator", "key_read", "key_write"]

# (method, url, body, expected status per caller in CALLERS order)
MATRIX = [
    ("get", "/api/v1/me/", None, [401, 200, 200, 200, 200, 200]),
    ("get", "/api/v1/authority/", None, [401, 200, 200, 200, 200, 200]),
    ("patch", "/api/v1/authority/", {"population": 1234}, [401, 403, 403, 200, 403, 403]),
    ("get", "/api/v1/jobs/", None, [401, 200, 200, 200, 200, 200]),
    ("post", "/api/v1/jobs/diagnostic/", None, [401, 403, 201, 201, 403, 201]),
    ("get", "/api/v1/members/", None, [401, 403, 403, 200, 403, 403]),
    ("post", "/api/v1/members/", {"email": "nouvel.agent@mairie.example.fr", "role": "agent"},
     [401, 403, 403, 201, 403, 403]),
    ("get", "/api/v1/api-keys/", None, [401, 403, 403, 200, 403, 403]),
    ("post", "/api/v1/api-keys/", {"name": "SIG", "scope": "read"}, [401, 403, 403, 201, 403, 403]),
]


@pytest.fixture
def caller(request, authority, member, api_client_for, key_client, django_capture_on_commit_callbacks):
    kind = request.param
    if kind == "anonymous":
        return APIClient()
    if kind.startswith("key_"):
        return key_client(authority, scope=kind.removeprefix("key_"))[0]
    return api_client_for(member(authority, role=kind))


@pytest.mark.parametrize(("method", "url", "body", "expected"), MATRIX, ids=[f"{m} {u}" for m, u, *_ in MATRIX])
@pytest.mark.parametrize("caller", CALLERS, indirect=True)
def test_role_matrix(caller, method, url, body, expected, request):
    kind = request.node.callspec.params["caller"]
    response = getattr(caller, method)(url, body, format="json")
    assert response.status_code == expected[CALLERS.index(kind)], response.content
    assert response["Content-Type"].startswith("application/json")


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
