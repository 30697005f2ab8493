"""Role matrix of `/api/v1/inbox/messages/`: citizens' messages carry personal data, so readers and read keys
see none; agents (and write keys, for an authority's contact form or e-mail gateway) post and read them;
another authority's messages are never reached. Posting twice with one `external_id` stores one message."""

import pytest

from apps.inbox import services
from apps.inbox.models import Message
from apps.tenants.context import tenant_context

from . import matrix
from .objects import exists

pytestmark = pytest.mark.django_db
LETTER = {
    "external_id": "site-2026-0042",
    "sender_name": "Jeanne Morel",
    "sender_email": "jeanne.morel@exemple.fr",
    "subject": "Ramassage des encombrants",
    "body": "Quand passe le prochain ramassage des encombrants ?",
}


def make_message(authority, subject="Nid-de-poule rue des Tilleuls") -> Message:
    with tenant_context(authority.pk):
        message, _ = services.receive_message(
            authority=authority,
            sender_name="Lucie Fontaine",
            sender_email="lucie@exemple.fr",
            subject=subject,
            body="Un nid-de-poule devant le 12.",
        )
    return message


@matrix.action(
    "api:inbox-message-list",
    "GET",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=200,
)
def test_agents_list_their_own_authority_messages_only(caller, authority, other_authority):
    ours, theirs = make_message(authority), make_message(other_authority, "Salle des fêtes")
    response = caller.call()
    if caller.allowed:
        ids = [row["id"] for row in response.json()["results"]]
        assert ids == ([theirs.pk] if caller.stranger else [ours.pk])


@matrix.action(
    "api:inbox-message-detail",
    "GET",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_a_message_is_read_by_agents_of_its_authority(caller, authority):
    message = make_message(authority)
    response = caller.call(message.pk)
    if caller.allowed:
        body = response.json()
        assert (body["subject"], body["state"], body["replies"]) == (message.subject, "new", [])
        assert body["abilities"]["retrieve"] is True and body["abilities"]["settings"] is (
            caller.name == "administrator"
        )


@matrix.action(
    "api:inbox-message-list",
    "POST",
    reader=403,
    agent=201,
    administrator=201,
    read_key=403,
    write_key=201,
    other_authority=201,
)
def test_an_integration_posts_a_message_once_per_external_id(caller, authority):
    response = caller.call(data=LETTER)
    if caller.allowed:
        again = caller.client.post("/api/v1/inbox/messages/", LETTER, format="json")
        assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
        assert response.json()["channel"] == Message.Channel.API
    assert exists(Message, authority, external_id=LETTER["external_id"]) is (caller.allowed and not caller.stranger)


def test_a_message_without_body_gets_the_400_envelope(api_client_for, authority, member):
    response = api_client_for(member(authority)).post("/api/v1/inbox/messages/", LETTER | {"body": ""}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
