"""Personal data is not kept forever: the nightly purge deletes each authority's messages closed longer
ago than its retention period, with their drafts, reply and history; the drafts' audit rows keep their
figures but lose their text. Open or recently closed messages, and other authorities', stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ai.models import Generation
from apps.inbox import services, tasks
from apps.inbox.models import Draft, Event, Message, Reply
from apps.tenants.context import tenant_context

from .support import CANTEEN, POTHOLE, receive

pytestmark = pytest.mark.django_db


def closed(authority, fields, *, months_ago: int, user) -> Message:
    message = receive(authority, fields)
    with tenant_context(authority.pk):
        generation = Generation.objects.create(
            authority=authority, task="reply", output="Madame, la voirie passe demain.", prompt_tokens=120
        )
        Draft.objects.create(authority=authority, message=message, generation=generation, digest=message.digest)
        Reply.objects.create(authority=authority, message=message, text="Réponse", sent_by=user)
        services.close(message=message, user=user)
        Message.objects.filter(pk=message.pk).update(closed_at=timezone.now() - timedelta(days=31 * months_ago))
    return message


def test_messages_closed_past_the_retention_period_are_deleted(authority, other_authority, member, settings):
    settings.INBOX_RETENTION_MONTHS = 24
    agent, stranger = member(authority), member(other_authority)
    old = closed(authority, POTHOLE, months_ago=25, user=agent)
    recent = closed(authority, CANTEEN, months_ago=3, user=agent)
    still_open = receive(authority, CANTEEN)
    theirs = closed(other_authority, POTHOLE, months_ago=25, user=stranger)
    other_authority.settings = {"inbox": {"retention_months": 36}}
    other_authority.save()

    assert tasks.purge_expired_messages() == 1

    with tenant_context(authority.pk):
        assert set(Message.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
        assert not Event.objects.filter(message_id=old.pk).exists()
        assert not Reply.objects.filter(message_id=old.pk).exists()
        assert not Draft.objects.filter(message_id=old.pk).exists()
        audit = Generation.objects.filter(output="", prompt_tokens=120)
        assert audit.count() == 1  # the old draft's audit row: figures kept, text gone
    with tenant_context(other_authority.pk):
        assert Message.objects.filter(pk=theirs.pk).exists()  # its own, longer, period


def test_answered_messages_nobody_closed_are_deleted_too(authority, member, settings):
    settings.INBOX_RETENTION_MONTHS = 12
    agent = member(authority)
    message = receive(authority, POTHOLE)
    with tenant_context(authority.pk):
        Reply.objects.create(authority=authority, message=message, text="Réponse", sent_by=agent)
        Message.objects.filter(pk=message.pk).update(
            state=Message.State.REPLIED, replied_at=timezone.now() - timedelta(days=31 * 13)
        )
        assert services.purge_expired(authority) == 1
        assert not Message.objects.exists()
