"""The assistant's API: ask, run a tool, follow as server-sent events, rate; the role matrix; the
audit export; the quota."""

import pytest

from apps.ai.models import Generation
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import CANTINE

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def answered(corpus, fake_llm):
    fake_llm.answer = "Le repas coûte 3,20 euros [1]."
    return corpus


def post_question(client, question="Quel est le prix du repas à la cantine ?", **data):
    return client.post("/api/v1/assistant/questions/", {"question": question, **data}, format="json")


def test_an_api_key_asks_a_question_and_follows_it_as_server_sent_events(
    answered, key_client, django_capture_on_commit_callbacks
):
    client, _ = key_client(answered, scope="read")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_question(client)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["task"] == "answer" and body["stream_url"].endswith(f"/generations/{body['id']}/stream/")
    stream = client.get(body["stream_url"], HTTP_ACCEPT="text/event-stream")
    assert stream.status_code == 200 and stream["Content-Type"].startswith("text/event-stream")
    events = b"".join(stream.streaming_content).decode()
    assert "event: done" in events and "3,20 euros" in events
    detail = client.get(f"/api/v1/assistant/generations/{body['id']}/").json()
    assert detail["outcome"] == "done" and detail["output"] == "Le repas coûte 3,20 euros [1]."
    assert detail["sources"] and "text" not in detail["sources"][0]


def test_an_unknown_generation_stream_is_a_json_404(answered, key_client):
    client, _ = key_client(answered, scope="read")
    response = client.get("/api/v1/assistant/generations/999999/stream/", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 404


def test_another_authority_cannot_read_or_stream_a_generation(answered, other_authority, member, api_client_for, ask):
    generation = ask(answered, member(answered), "Quel est le prix du repas à la cantine ?")
    stranger = api_client_for(member(other_authority, role=Role.ADMINISTRATOR))
    assert stranger.get(f"/api/v1/assistant/generations/{generation.pk}/").status_code == 404
    assert stranger.get(f"/api/v1/assistant/generations/{generation.pk}/stream/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/assistant/generations/{generation.pk}/feedback/", {"rating": "up"}, format="json"
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("role", "ask_status", "tool_status", "audit_status"),
    [
        (Role.READER, 202, 403, 403),
        (Role.AGENT, 202, 202, 403),
        (Role.ADMINISTRATOR, 202, 202, 200),
    ],
)
def test_role_matrix(answered, member, api_client_for, role, ask_status, tool_status, audit_status):
    client = api_client_for(member(answered, role=role))
    assert post_question(client).status_code == ask_status
    tool = client.post("/api/v1/assistant/tools/summary/", {"text": CANTINE}, format="json")
    assert tool.status_code == tool_status, tool.content
    assert client.get("/api/v1/assistant/audit.csv").status_code == audit_status


def test_anonymous_gets_401_with_the_bearer_challenge(answered, client):
    from rest_framework.test import APIClient

    response = post_question(APIClient())
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_agents_see_their_own_generations_administrators_all(answered, member, api_client_for, ask):
    agent, other_agent = member(answered), member(answered)
    mine = ask(answered, agent, "Quel est le prix du repas à la cantine ?")
    ask(answered, other_agent, "Quel est le prix du repas à la cantine ?")
    listed = api_client_for(agent).get("/api/v1/assistant/generations/").json()["results"]
    assert [g["id"] for g in listed] == [mine.pk]
    admin = api_client_for(member(answered, role=Role.ADMINISTRATOR))
    assert admin.get("/api/v1/assistant/generations/").json()["count"] == 2


def test_audit_export_lists_every_generation_and_defuses_formulas(answered, member, api_client_for, ask):
    ask(answered, member(answered), '=HYPERLINK("http://evil") cantine repas prix ?')
    response = api_client_for(member(answered, role=Role.ADMINISTRATOR)).get("/api/v1/assistant/audit.csv")
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("id;date;utilisateur")
    assert len(lines) == 2 and "'=HYPERLINK" in lines[1]


def test_an_exhausted_quota_is_refused_with_a_clear_french_message(answered, member, api_client_for):
    answered.settings = {"assistant": {"monthly_token_quota": 1000}}
    answered.save()
    with tenant_context(answered.pk):
        Generation.objects.create(
            authority=answered, task="answer", outcome="done", prompt_tokens=900, completion_tokens=200
        )
    response = post_question(api_client_for(member(answered)))
    assert response.status_code == 400
    assert "quota mensuel" in response.json()["detail"]


def test_feedback_through_the_api(answered, member, api_client_for, ask):
    user = member(answered)
    generation = ask(answered, user, "Quel est le prix du repas à la cantine ?")
    response = api_client_for(user).post(
        f"/api/v1/assistant/generations/{generation.pk}/feedback/", {"rating": "up", "reason": "précis"}, format="json"
    )
    assert response.status_code == 200 and response.json()["rating"] == 1


def test_a_batch_tool_request_gets_a_whole_reply_instead_of_a_stream(
    answered, fake_llm, member, api_client_for, django_capture_on_commit_callbacks
):
    fake_llm.answer = "Le conseil fixe le prix du repas à 3,20 euros."
    client = api_client_for(member(answered))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/assistant/tools/summary/", {"text": CANTINE, "stream": False}, format="json")
    assert response.status_code == 202
    request = fake_llm.generation_requests()[-1]
    assert request.json.get("stream") is False
    detail = client.get(f"/api/v1/assistant/generations/{response.json()['id']}/").json()
    assert detail["outcome"] == "done" and detail["output"] == "Le conseil fixe le prix du repas à 3,20 euros."


def test_usage_counts_towards_the_quota_as_generations_finish(answered, fake_llm, member, api_client_for, ask):
    answered.settings = {"assistant": {"monthly_token_quota": 10_000}}
    answered.save()
    client = api_client_for(member(answered))
    assert post_question(client).status_code == 202  # builds the month's counter from the audit log
    generation = ask(answered, member(answered), "Quel est le prix du repas à la cantine ?")
    assert generation.total_tokens > 0
    from apps.ai import usage

    assert usage.tokens_this_month(answered.pk) == generation.total_tokens


def test_the_chat_page_asks_and_says_what_is_wrong_in_french(
    answered, member, client_for, django_capture_on_commit_callbacks
):
    client = client_for(member(answered))
    refused = client.post("/assistant/", {"question": "  "}, HTTP_HX_REQUEST="true").content.decode()
    assert 'role="alert"' in refused and "obligatoire" in refused
    with django_capture_on_commit_callbacks(execute=True):
        turn = client.post(
            "/assistant/", {"question": "Quel est le prix du repas à la cantine ?"}, HTTP_HX_REQUEST="true"
        ).content.decode()
    assert "<html" not in turn and "data-stream=" in turn and 'hx-swap-oob="true"' in turn
