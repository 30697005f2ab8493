"""Reads of the inbox: the list with its filters and counts, a message's thread, the citizen's other
messages, and the validated replies most like a new message. Call inside the authority's tenant context."""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.documents.models import FULLTEXT_CONFIG
from apps.jobs.models import Job

from .mail import SEND_JOB
from .models import Draft, Event, Message, Reply

State = Message.State
MIN_SHARED_WORDS = 2  # one shared word ("prochain", "devant") is a coincidence, not a topic
NEAR_BEST = 0.5  # an example shares at least half as many words as the best one: the others are about something else
QUERY_WORDS = 40
# Words of every letter to a town hall, which say nothing of what it is about.
GENERIC_WORDS = {
    "bonjour", "bonsoir", "madame", "monsieur", "mesdames", "messieurs", "merci", "remercie", "cordialement",
    "salutations", "distinguées", "pouvez", "pourriez", "voudrais", "souhaite", "souhaiterais", "mairie", "maire",
    "commune", "ville",
}  # fmt: skip


@dataclass
class InboxFilters:
    state: str = ""  # a State value, "open" (the default view) or "" for all
    service: int | None = None
    mine: bool = False
    overdue: bool = False
    search: str = ""
    counts: dict = field(default_factory=dict)


def overdue_q() -> Q:
    return Q(state__in=Message.OPEN_STATES, due_on__lt=timezone.localdate())


def inbox(filters: InboxFilters, user) -> QuerySet[Message]:
    messages = Message.objects.select_related("service", "assigned_to")
    if filters.state == "open":
        messages = messages.filter(state__in=Message.OPEN_STATES)
    elif filters.state:
        messages = messages.filter(state=filters.state)
    if filters.service:
        messages = messages.filter(service_id=filters.service)
    if filters.mine:
        messages = messages.filter(assigned_to=user)
    if filters.overdue:
        messages = messages.filter(overdue_q())
    if filters.search:
        words = filters.search.strip()[:200]
        messages = messages.filter(
            Q(search_vector=SearchQuery(words, config=FULLTEXT_CONFIG, search_type="websearch"))
            | Q(sender_email__iexact=words)
            | Q(sender_name__icontains=words)
        )
    # Open messages first, the most urgent on top; then the rest, most recent first.
    return (
        messages.order_by(F("replied_at").asc(nulls_first=True), "due_on", "-received_at", "-id")
        if filters.state in ("open", "")
        else messages.order_by("-received_at", "-id")
    )


def counts(user) -> dict[str, int]:
    """The numbers the filters show, in one query."""
    return Message.objects.aggregate(
        open=Count("pk", filter=Q(state__in=Message.OPEN_STATES)),
        new=Count("pk", filter=Q(state=State.NEW)),
        in_progress=Count("pk", filter=Q(state=State.IN_PROGRESS)),
        drafted=Count("pk", filter=Q(state=State.DRAFTED)),
        replied=Count("pk", filter=Q(state=State.REPLIED)),
        closed=Count("pk", filter=Q(state=State.CLOSED)),
        overdue=Count("pk", filter=overdue_q()),
        mine=Count("pk", filter=Q(state__in=Message.OPEN_STATES, assigned_to=user)),
        all=Count("pk"),
    )


def thread(message: Message) -> dict:
    reply = Reply.objects.filter(message=message).select_related("sent_by").first()
    email_job = None
    if reply is not None and reply.emailed_at is None:  # still leaving, or failed: the page says which
        email_job = Job.objects.filter(kind=SEND_JOB, params__reply_id=reply.pk).order_by("-pk").first()
    return {
        "email_job": email_job,
        "events": list(Event.objects.filter(message=message).select_related("actor").order_by("at", "id")),
        "drafts": list(
            Draft.objects.filter(message=message)
            .select_related("generation", "created_by")
            .order_by("-created_at", "-id")
        ),
        "reply": reply,
        "others": list(
            Message.objects.filter(sender_email=message.sender_email)
            .exclude(pk=message.pk)
            .order_by("-received_at")[:20]
        ),
    }


def _content_words(message: Message) -> list[str]:
    words = re.findall(r"[^\W\d_]{4,}", f"{message.subject} {message.body}".lower())
    return [word for word in dict.fromkeys(words) if word not in GENERIC_WORDS][:QUERY_WORDS]


def similar_replies(message: Message, *, limit: int) -> list[Reply]:
    """Validated replies to the messages closest to this one: those sharing the most words (stems, through
    the French full-text configuration) with it, at least MIN_SHARED_WORDS, then by full-text rank. A
    citizen rarely uses the words of the last one, so any word may count; one stray word does not."""
    words = _content_words(message)
    if not words:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(to_tsvector(%s::regconfig, %s))", [FULLTEXT_CONFIG, " ".join(words)])
        lexemes = cursor.fetchone()[0]
    query = SearchQuery(" or ".join(words), config=FULLTEXT_CONFIG, search_type="websearch")
    shared = RawSQL(
        "cardinality(ARRAY(SELECT unnest(tsvector_to_array(search_vector)) INTERSECT SELECT unnest(%s::text[])))",
        (lexemes,),
    )
    ranked = list(
        Message.objects.filter(search_vector=query, replies__isnull=False)
        .exclude(pk=message.pk)
        .annotate(shared=shared, rank=SearchRank(F("search_vector"), query, cover_density=True))
        .filter(shared__gte=MIN_SHARED_WORDS)
        .order_by("-shared", "-rank", "-replied_at")
        .values_list("pk", "shared")[:limit]
    )
    order = [pk for pk, count in ranked if count >= NEAR_BEST * ranked[0][1]] if ranked else []
    replies = {r.message_id: r for r in Reply.objects.filter(message_id__in=order).select_related("message")}
    return [replies[pk] for pk in order if pk in replies]


def published_replies() -> QuerySet[Reply]:
    return Reply.objects.filter(published=True, message__consent_publication=True).select_related("message")
