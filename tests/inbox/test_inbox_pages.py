"""The agents' inbox: filters and counts, overdue messages shown, assignment; citizens' messages are closed
to readers, and every inbox page answers 404 for another authority's message or draft."""

import datetime

import pytest
from django.urls import reverse

from apps.inbox import services
from apps.inbox.models import Draft, Event, Message, Service
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import CANTEEN, POTHOLE, receive, reload

pytestmark = pytest.mark.django_db
Role = Membership.Role


def service(authority, name="Voirie") -> Service:
    with tenant_context(authority.pk):
        return Service.objects.get_or_create(authority=authority, name=name)[0]


def test_the_inbox_lists_open_messages_with_counts_and_overdue_first(authority, member, client_for):
    agent = member(authority)
    late, fresh = receive(authority, POTHOLE), receive(authority, CANTEEN)
    with tenant_context(authority.pk):
        Message.objects.filter(pk=late.pk).update(due_on=datetime.date(2020, 1, 6))
    page = client_for(agent).get("/messagerie/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "À traiter (2)" in html and "En retard (1)" in html
    assert html.index(POTHOLE["subject"]) < html.index(CANTEEN["subject"])  # the overdue one first
    assert 'En retard</strong> — <span class="only-narrow">à traiter avant le </span>6 janvier 2020' in html
    overdue = client_for(agent).get("/messagerie/?etat=open&retard=on").content.decode()
    assert POTHOLE["subject"] in overdue and CANTEEN["subject"] not in overdue
    assert fresh.pk


def test_filters_by_service_by_agent_and_by_words(authority, member, client_for):
    agent, colleague = member(authority), member(authority)
    roads = service(authority)
    pothole, canteen = receive(authority, POTHOLE), receive(authority, CANTEEN)
    with tenant_context(authority.pk):
        services.assign(message=pothole, user=agent, service=roads, assigned_to=agent)
        services.assign(message=canteen, user=agent, service=None, assigned_to=colleague)
    client = client_for(agent)
    mine = client.get("/messagerie/?etat=open&moi=on").content.decode()
    assert POTHOLE["subject"] in mine and CANTEEN["subject"] not in mine
    by_service = client.get(f"/messagerie/?etat=&service={roads.pk}").content.decode()
    assert POTHOLE["subject"] in by_service and CANTEEN["subject"] not in by_service
    by_words = client.get("/messagerie/?etat=&q=cantine").content.decode()
    assert CANTEEN["subject"] in by_words and POTHOLE["subject"] not in by_words
    assert reload(pothole).state == Message.State.IN_PROGRESS


def test_assignment_is_recorded_in_the_history(authority, member, client_for):
    agent = member(authority)
    roads = service(authority)
    message = receive(authority, POTHOLE)
    client = client_for(agent)
    client.post(f"/messagerie/{message.pk}/attribuer/", {"service": roads.pk, "assigned_to": agent.pk})
    with tenant_context(authority.pk):
        event = Event.objects.get(message=message, kind=Event.Kind.ASSIGNED)
    assert (event.actor, event.detail["service"]) == (agent, "Voirie")
    page = client.get(f"/messagerie/{message.pk}/").content.decode()
    assert "Attribué par" in page


def test_the_citizen_other_messages_are_shown(authority, member, client_for):
    first = receive(authority, POTHOLE)
    second = receive(authority, POTHOLE, subject="Le nid-de-poule est toujours là")
    page = client_for(member(authority)).get(f"/messagerie/{second.pk}/").content.decode()
    assert reverse("inbox-message", args=[first.pk]) in page


def test_readers_never_see_citizens_messages(authority, member, client_for):
    message = receive(authority, POTHOLE)
    client = client_for(member(authority, Role.READER))
    assert client.get("/messagerie/").status_code == 403
    assert client.get(f"/messagerie/{message.pk}/").status_code == 403
    assert client.get("/messagerie/tableau-de-bord/").status_code == 403
    assert "/messagerie/" not in client.get("/").content.decode()


def test_only_administrators_change_the_inbox_settings(authority, member, client_for):
    assert client_for(member(authority)).get("/messagerie/reglages/").status_code == 403
    admin = client_for(member(authority, Role.ADMINISTRATOR))
    response = admin.post(
        "/messagerie/reglages/", {"reply_days": 3, "retention_months": 12, "services": "État civil\nVoirie\nVoirie"}
    )
    assert response.status_code == 302
    authority.refresh_from_db()
    assert authority.settings["inbox"] == {"reply_days": 3, "retention_months": 12}
    with tenant_context(authority.pk):
        assert sorted(Service.objects.values_list("name", flat=True)) == ["Voirie", "État civil"]
    message = receive(authority, POTHOLE)
    assert message.due_on - message.received_at.date() <= datetime.timedelta(days=5)  # 3 working days
    bad = admin.post("/messagerie/reglages/", {"reply_days": 0, "retention_months": 12})
    assert bad.status_code == 400 and "supérieure ou égale à 1" in bad.content.decode()


@pytest.fixture
def foreign(other_authority, member):
    message = receive(other_authority, POTHOLE)
    with tenant_context(other_authority.pk):
        draft = Draft.objects.create(authority=other_authority, message=message, digest=message.digest)
    return message, draft


def test_every_inbox_page_answers_404_for_another_authority_ids(authority, member, client_for, foreign):
    message, draft = foreign
    client = client_for(member(authority, Role.ADMINISTRATOR))
    for name in ("inbox-message",):
        assert client.get(reverse(name, args=[message.pk])).status_code == 404
    for name in ("inbox-assign", "inbox-draft", "inbox-save", "inbox-check", "inbox-send", "inbox-close"):
        response = client.post(reverse(name, args=[message.pk]), {"text": "x", "validated": "1"})
        assert response.status_code == 404, name
    for name in ("inbox-draft-fragment", "inbox-draft-stream"):
        assert client.get(reverse(name, args=[draft.pk])).status_code == 404, name
    for name in ("inbox-draft-insert", "inbox-draft-rate"):
        assert client.post(reverse(name, args=[draft.pk]), {"rating": 5, "reason": "accurate"}).status_code == 404
    with tenant_context(message.authority_id):
        assert Message.objects.get(pk=message.pk).state == Message.State.NEW
        assert not Event.objects.exclude(kind=Event.Kind.RECEIVED).exists()


def test_closing_and_reopening_a_message(authority, member, client_for):
    message = receive(authority, POTHOLE)
    client = client_for(member(authority))
    client.post(f"/messagerie/{message.pk}/clore/")
    assert reload(message).state == Message.State.CLOSED and reload(message).closed_at
    client.post(f"/messagerie/{message.pk}/clore/", {"reopen": "1"})
    assert reload(message).state == Message.State.IN_PROGRESS and reload(message).closed_at is None
