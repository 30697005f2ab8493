"""The public form « Écrire à la mairie »: a citizen's message reaches the inbox; bots are stopped by the
proof of work (each solution used once) and by the per-IP rate limit; a wrong address is a 404."""

import pytest

from apps.inbox.models import Event, Message
from apps.tenants.context import tenant_context

from .support import CANTEEN, POTHOLE, form_data, solved_challenge

pytestmark = pytest.mark.django_db


def stored(authority) -> list[Message]:
    with tenant_context(authority.pk):
        return list(Message.objects.order_by("pk"))


def test_a_message_sent_through_the_public_form_appears_in_the_inbox(client, authority, member, client_for):
    page = client.get("/registre/commune-a/ecrire/")
    assert page.status_code == 200
    assert "Écrire à Commune A" in page.content.decode()

    response = client.post("/registre/commune-a/ecrire/", form_data(altcha=solved_challenge(client, "commune-a")))

    assert response.status_code == 302
    assert response["Location"].startswith("/registre/commune-a/ecrire/envoye/?recu=")
    assert "sessionid" not in response.cookies  # no cookie for citizens
    [message] = stored(authority)
    assert (message.subject, message.sender_email, message.state) == (
        POTHOLE["subject"],
        POTHOLE["sender_email"],
        Message.State.NEW,
    )
    assert message.due_on > message.received_at.date()
    receipt = client.get(response["Location"]).content.decode()
    assert f"numéro <strong>{message.pk}</strong>" in receipt
    forged = client.get("/registre/commune-a/ecrire/envoye/?recu=eyJpZCI6IDF9:forged").content.decode()
    assert "transmis à la mairie" in forged and "numéro" not in forged
    inbox = client_for(member(authority)).get("/messagerie/").content.decode()
    assert POTHOLE["subject"] in inbox
    with tenant_context(authority.pk):
        assert list(Event.objects.values_list("kind", flat=True)) == [Event.Kind.RECEIVED]


def test_a_post_without_proof_of_work_is_refused_with_a_french_message(client, authority):
    response = client.post("/registre/commune-a/ecrire/", form_data(altcha=""))
    assert response.status_code == 400
    assert "vérification anti-robot" in response.content.decode()
    assert stored(authority) == []


def test_a_solution_is_accepted_once_so_a_bot_cannot_replay_it(client, authority):
    solution = solved_challenge(client, "commune-a")
    assert client.post("/registre/commune-a/ecrire/", form_data(altcha=solution)).status_code == 302
    replay = client.post("/registre/commune-a/ecrire/", form_data(CANTEEN, altcha=solution))
    assert replay.status_code == 400
    assert [m.subject for m in stored(authority)] == [POTHOLE["subject"]]


def test_a_forged_solution_is_refused(client, authority):
    solution = solved_challenge(client, "commune-a")
    forged = solution[:-8] + ("A" * 8 if not solution.endswith("A" * 8) else "B" * 8)
    assert client.post("/registre/commune-a/ecrire/", form_data(altcha=forged)).status_code == 400
    assert stored(authority) == []


def test_a_bot_posting_500_messages_is_stopped(client, authority, settings):
    """Even solving every challenge, one address gets INBOX_FORM_RATE messages through, then 429."""
    settings.ALTCHA_MAX_NUMBER = 1_000  # the bot's work is not what this test measures
    settings.INBOX_FORM_RATE = "5/h"
    statuses = []
    for n in range(500):
        payload = solved_challenge(client, "commune-a") if n < 12 else "no-work"
        data = form_data(subject=f"Promotion exceptionnelle {n}", altcha=payload)
        statuses.append(client.post("/registre/commune-a/ecrire/", data).status_code)
    assert statuses[:5] == [302] * 5
    assert set(statuses[5:]) == {429}
    assert len(stored(authority)) == 5
    last = client.post("/registre/commune-a/ecrire/", form_data(altcha="x"))
    assert "réessayez dans une heure" in last.content.decode()


def test_behind_a_proxy_the_limit_counts_the_client_address_not_the_proxy(client, authority, settings):
    settings.INBOX_FORM_RATE, settings.TRUSTED_PROXIES = "2/h", 1
    for n in range(3):  # three citizens through the same proxy, one of them forging the header's first entry
        forwarded = f"203.0.113.9, 198.51.100.{n}"
        data = form_data(subject=f"Demande {n}", altcha=solved_challenge(client, "commune-a"))
        assert client.post("/registre/commune-a/ecrire/", data, HTTP_X_FORWARDED_FOR=forwarded).status_code == 302
    assert len(stored(authority)) == 3


def test_another_address_is_not_limited_by_a_bot(client, authority, settings):
    settings.INBOX_FORM_RATE = "2/h"
    for _ in range(3):
        client.post("/registre/commune-a/ecrire/", form_data(altcha=solved_challenge(client, "commune-a")))
    neighbour = client.post(
        "/registre/commune-a/ecrire/",
        form_data(CANTEEN, altcha=solved_challenge(client, "commune-a")),
        REMOTE_ADDR="192.0.2.44",
    )
    assert neighbour.status_code == 302
    assert len(stored(authority)) == 3


def test_missing_fields_are_named_in_french_and_nothing_is_stored(client, authority):
    data = form_data(altcha=solved_challenge(client, "commune-a"), sender_email="pas-une-adresse", body="")
    response = client.post("/registre/commune-a/ecrire/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Saisissez une adresse e-mail valide." in page or "adresse électronique valide" in page
    assert "Ce champ est obligatoire." in page
    assert stored(authority) == []


def test_an_unknown_or_inactive_authority_has_no_form(client, authority, other_authority):
    assert client.get("/registre/commune-inconnue/ecrire/").status_code == 404
    other_authority.is_active = False
    other_authority.save()
    assert client.get("/registre/commune-b/ecrire/").status_code == 404
    assert client.get("/registre/commune-b/ecrire/defi/").status_code == 404


def test_a_message_goes_to_the_authority_of_the_address_only(client, authority, other_authority):
    client.post("/registre/commune-b/ecrire/", form_data(altcha=solved_challenge(client, "commune-b")))
    assert stored(authority) == []
    assert len(stored(other_authority)) == 1


@pytest.mark.django_db(transaction=True)  # a 5xx rolls the request back (tenant middleware): not inside a test's
def test_when_redis_is_down_the_form_says_so_and_keeps_what_was_written(client, authority, settings):
    solution = solved_challenge(client, "commune-a")
    # The rate limit's cache on a port where nothing listens: the anti-bot checks cannot be made.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    response = client.post("/registre/commune-a/ecrire/", form_data(altcha=solution))
    assert response.status_code == 503
    page = response.content.decode()
    assert "momentanément indisponible" in page
    assert "un nid-de-poule" in page  # what the citizen wrote is still in the form
    assert stored(authority) == []
