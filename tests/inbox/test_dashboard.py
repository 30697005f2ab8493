"""The dashboard's figures: delays (median, 90th percentile) and satisfaction with its 95 % interval, for
replies with and without an AI draft, by service and by month; the CSV holds no name, address or text."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inbox import stats
from apps.inbox.models import Message, Reply
from apps.tenants.context import tenant_context

from .support import CANTEEN, POTHOLE, receive

pytestmark = pytest.mark.django_db


def test_wilson_interval_matches_the_textbook_values():
    interval = stats.wilson(68, 100)
    assert round(interval.low, 3) == 0.583 and round(interval.high, 3) == 0.763  # computed by hand from the formula
    small = stats.wilson(1, 1)
    assert small.high == 1.0 and round(small.low, 3) == 0.207
    assert stats.wilson(0, 0) is None


def test_percentiles_interpolate_between_ranks():
    assert stats.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == pytest.approx(9.1)
    assert stats.percentile([], 50) is None


def answered(authority, fields, *, days: float, share, rating, user):
    message = receive(authority, fields)
    with tenant_context(authority.pk):
        reply = Reply.objects.create(
            authority=authority, message=message, text="Réponse", ai_share=share, sent_by=user, citizen_rating=rating
        )
        Reply.objects.filter(pk=reply.pk).update(sent_at=message.received_at + timedelta(days=days))
        Message.objects.filter(pk=message.pk).update(state=Message.State.REPLIED)
    return message


def test_dashboard_compares_ai_assisted_and_agent_replies(authority, member, client_for):
    agent = member(authority)
    for days, rating in ((1, 5), (2, 4), (3, 2)):
        answered(authority, CANTEEN, days=days, share=80, rating=rating, user=agent)
    for days in (6, 10):
        answered(authority, POTHOLE, days=days, share=None, rating=3, user=agent)
    with tenant_context(authority.pk):
        board = stats.dashboard()
    assert (board.ai.replies, board.agent.replies, board.total) == (3, 2, 5)
    assert board.ai.median_days == pytest.approx(2, abs=0.01)
    assert board.agent.median_days == pytest.approx(8, abs=0.01)
    assert board.ai.satisfaction.share == pytest.approx(2 / 3)
    assert board.agent.satisfaction.share == 0
    month = timezone.localtime().strftime("%Y-%m")
    assert board.by_month[month].replies == 5 or len(board.by_month) == 2  # replies late in a month move on

    client = client_for(agent)
    page = client.get("/messagerie/tableau-de-bord/").content.decode()
    assert "67 % (IC 95 %" in page and "60 %" in page  # 2 of 3 satisfied; 3 of 5 replies AI-assisted
    csv = client.get("/messagerie/tableau-de-bord.csv").content.decode("utf-8-sig")
    header, *rows = csv.strip().splitlines()
    assert header.startswith("message;service;reçu le")
    assert len(rows) == 5
    assert CANTEEN["sender_email"] not in csv and CANTEEN["sender_name"] not in csv
