"""Writes of the inbox: a message received, assigned, drafted, answered, rated, closed, forgotten. Each
write records its event (who, when) in the same transaction, so the thread's history is never partial."""

import logging

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.ai import usage
from apps.ai.errors import QuotaExceeded
from apps.ai.models import Generation
from apps.assistant.tasks import GENERATE_JOB
from apps.jobs.services import enqueue_job

from . import rules
from .ai_share import ALGORITHM_VERSION, ai_share
from .comparison import without_markers
from .errors import InboxError
from .mail import SEND_JOB
from .models import Draft, Event, Message, Reply, Service
from .publication import public_version

logger = logging.getLogger(__name__)
State, Kind = Message.State, Event.Kind
MAX_SUBJECT_CHARS = 200
MAX_BODY_CHARS = 10_000
MAX_REPLY_CHARS = 20_000


def record_event(message: Message, kind: str, actor=None, **detail) -> Event:
    return Event.objects.create(
        authority_id=message.authority_id, message=message, kind=kind, actor=actor, detail=detail
    )


def clean_text(text: str) -> str:
    """A browser's line endings (\r\n) made plain, trailing spaces and blank edges removed."""
    return "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").strip().split("\n"))


@transaction.atomic
def receive_message(
    *,
    authority,
    sender_name: str,
    sender_email: str,
    subject: str,
    body: str,
    service: Service | None = None,
    consent_publication: bool = False,
    channel: str = Message.Channel.FORM,
    external_id: str = "",
) -> tuple[Message, bool]:
    """(message, created). With an external id, sending the same message twice stores it once."""
    if external_id:
        existing = Message.objects.filter(authority=authority, external_id=external_id).first()
        if existing:
            return existing, False
    subject, body = " ".join((subject or "").split()), clean_text(body)
    if not subject or not body:
        raise InboxError("L'objet et le message sont obligatoires.")
    if len(subject) > MAX_SUBJECT_CHARS or len(body) > MAX_BODY_CHARS:
        raise InboxError(f"Le message est trop long (au plus {MAX_BODY_CHARS} caractères).")
    fields = {
        "authority": authority,
        "channel": channel,
        "external_id": external_id,
        "sender_name": " ".join(sender_name.split())[:200],
        "sender_email": sender_email.strip().lower(),
        "subject": subject,
        "body": body,
        "service": service,
        "consent_publication": consent_publication,
        "due_on": rules.due_on(authority, timezone.localdate()),
    }
    try:
        with transaction.atomic():  # a savepoint: the same external id posted twice at once stores one message
            message = Message.objects.create(**fields)
    except IntegrityError:
        if not external_id:
            raise
        return Message.objects.get(authority=authority, external_id=external_id), False
    record_event(message, Kind.RECEIVED, channel=channel)
    return message, True


@transaction.atomic
def assign(*, message: Message, user, service: Service | None, assigned_to) -> Message:
    message.service, message.assigned_to = service, assigned_to
    if message.state == State.NEW:
        message.state = State.IN_PROGRESS
    message.save(update_fields=["service", "assigned_to", "state"])
    record_event(
        message,
        Kind.ASSIGNED,
        user,
        service=service.name if service else "",
        agent=str(assigned_to) if assigned_to else "",
    )
    return message


@transaction.atomic
def update_message(*, message: Message, subject: str, body: str, user) -> Message:
    """An agent corrects what a citizen wrote (a typo, a follow-up pasted in): drafts made before are stale."""
    subject, body = " ".join((subject or "").split()), clean_text(body)
    if not subject or not body:
        raise InboxError("L'objet et le message sont obligatoires.")
    message.subject, message.body = subject[:MAX_SUBJECT_CHARS], body[:MAX_BODY_CHARS]
    message.save(update_fields=["subject", "body"])
    record_event(message, Kind.EDITED, user, what="message")
    return message


def _ensure_open(message: Message) -> None:
    if not message.is_open:
        raise InboxError("Ce message a déjà reçu une réponse ou a été clos.")


@transaction.atomic
def request_draft(*, message: Message, user) -> Draft:
    """A job drafts the reply (drafting.py); a new request keeps the previous draft in the chain."""
    _ensure_open(message)
    try:
        usage.check_quota(message.authority)  # refuse now rather than queue what the worker would refuse
    except QuotaExceeded as exc:
        raise InboxError(exc.user_message) from exc
    previous = message.drafts.order_by("-created_at", "-id").first()
    generation = Generation.objects.create(
        authority_id=message.authority_id, user=user, task=Generation.Task.REPLY, input={"message_id": message.pk}
    )
    job = enqueue_job(
        authority=message.authority, kind=GENERATE_JOB, created_by=user, params={"generation_id": generation.pk}
    )
    Generation.objects.filter(pk=generation.pk).update(job=job)
    draft = Draft.objects.create(
        authority_id=message.authority_id,
        message=message,
        generation=generation,
        previous=previous,
        digest=message.digest,
        created_by=user,
    )
    if message.state in (State.NEW, State.IN_PROGRESS):
        message.state = State.DRAFTED
        message.save(update_fields=["state"])
    record_event(message, Kind.DRAFTED, user, draft=draft.pk, regenerated=previous is not None)
    return draft


@transaction.atomic
def save_working_text(*, message: Message, user, text: str, draft: Draft | None) -> Message:
    _ensure_open(message)
    text = clean_text(text)
    if len(text) > MAX_REPLY_CHARS:
        raise InboxError(f"La réponse est trop longue (au plus {MAX_REPLY_CHARS} caractères).")
    message.working_text = text
    if draft is not None:
        message.working_draft = draft
    if message.state == State.NEW:
        message.state = State.IN_PROGRESS
    message.save(update_fields=["working_text", "working_draft", "state"])
    record_event(message, Kind.EDITED, user, what="reply", draft=draft.pk if draft else None)
    return message


def draft_text(draft: Draft | None) -> str:
    """The draft as it was inserted in the editor, without its pointers to the sources."""
    return without_markers(draft.text) if draft is not None else ""


def measured_share(message: Message, text: str) -> tuple[int | None, Draft | None]:
    """(AI share, the draft it comes from). Measured against every finished draft of the message, the
    highest kept: a draft copied by hand into the editor counts like one inserted with the button (the
    browser's word on which draft it used is not trusted for a claim made to the citizen)."""
    sent, best = without_markers(text), (None, None)
    drafts = Draft.objects.filter(message=message).select_related("generation").order_by("-created_at", "-id")
    for draft in drafts:
        if not draft_text(draft):
            continue
        share = ai_share(draft_text(draft), sent).percent
        if best[0] is None or share > best[0]:
            best = (share, draft)
    return best


@transaction.atomic
def send_reply(*, message: Message, user, text: str, publish: bool) -> Reply:
    """The agent's « Valider et envoyer »: the only way a reply reaches a citizen. The e-mail leaves from a
    job once this commits; publication needs the citizen's consent."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    _ensure_open(message)
    text = without_markers(clean_text(text))
    if not text:
        raise InboxError("La réponse est vide.")
    if len(text) > MAX_REPLY_CHARS:
        raise InboxError(f"La réponse est trop longue (au plus {MAX_REPLY_CHARS} caractères).")
    share, draft = measured_share(message, text)
    published = publish and message.consent_publication
    title, public_text = public_version(message.subject, text) if published else ("", "")
    reply = Reply.objects.create(
        authority_id=message.authority_id,
        message=message,
        text=text,
        draft=draft,
        draft_text=draft_text(draft),
        ai_share=share,
        ai_share_version=ALGORITHM_VERSION if draft else "",
        sent_by=user,
        published=published,
        published_title=title,
        published_text=public_text,
    )
    message.state, message.replied_at = State.REPLIED, reply.sent_at
    message.working_text, message.working_draft = text, draft
    message.save(update_fields=["state", "replied_at", "working_text", "working_draft"])
    record_event(message, Kind.SENT, user, reply=reply.pk, ai_share=share)
    if reply.published:
        record_event(message, Kind.PUBLISHED, user, reply=reply.pk)
    enqueue_job(authority=message.authority, kind=SEND_JOB, created_by=user, params={"reply_id": reply.pk})
    return reply


@transaction.atomic
def rate_draft(*, draft: Draft, user, rating: int, reason: str, comment: str = "") -> Draft:
    draft = Draft.objects.select_for_update(of=("self",)).select_related("generation").get(pk=draft.pk)
    if draft.rating is not None:
        raise InboxError("Ce brouillon a déjà été noté.")
    if not draft.text:
        raise InboxError("Ce brouillon n'est pas terminé ou n'a pas abouti : il n'y a rien à noter.")
    if rating not in range(1, 6):
        raise InboxError("La note va de 1 à 5.")
    if reason not in Draft.Reason.values:
        raise InboxError("Choisissez un motif.")
    draft.rating, draft.rating_reason, draft.rating_comment = rating, reason, (comment or "").strip()[:500]
    draft.rated_by, draft.rated_at = user, timezone.now()
    draft.save(update_fields=["rating", "rating_reason", "rating_comment", "rated_by", "rated_at"])
    record_event(draft.message, Kind.DRAFT_RATED, user, draft=draft.pk, rating=rating, reason=reason)
    return draft


@transaction.atomic
def rate_reply(*, reply: Reply, rating: int, comment: str = "") -> Reply:
    """The citizen's rating, through the signed link of the e-mail; once."""
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    if reply.citizen_rating is not None:
        raise InboxError("Vous avez déjà donné votre avis sur cette réponse. Merci !")
    if rating not in range(1, 6):
        raise InboxError("Choisissez une note de 1 à 5.")
    reply.citizen_rating, reply.citizen_comment = rating, (comment or "").strip()[:2000]
    reply.citizen_rated_at = timezone.now()
    reply.save(update_fields=["citizen_rating", "citizen_comment", "citizen_rated_at"])
    record_event(reply.message, Kind.RATED, None, rating=rating)
    return reply


@transaction.atomic
def close(*, message: Message, user) -> Message:
    if message.state == State.CLOSED:
        return message
    message.state, message.closed_at = State.CLOSED, timezone.now()
    message.save(update_fields=["state", "closed_at"])
    record_event(message, Kind.CLOSED, user)
    return message


@transaction.atomic
def reopen(*, message: Message, user) -> Message:
    if message.state != State.CLOSED:
        return message
    message.state = State.REPLIED if message.replies.exists() else State.IN_PROGRESS
    message.closed_at = None
    message.save(update_fields=["state", "closed_at"])
    record_event(message, Kind.REOPENED, user)
    return message


@transaction.atomic
def update_settings(*, authority, reply_days: int, retention_months: int, service_names: list[str]) -> None:
    """The authority's own delays and its services; a service removed leaves its messages unassigned."""
    own = dict(authority.settings or {})
    own["inbox"] = {**own.get("inbox", {}), "reply_days": reply_days, "retention_months": retention_months}
    authority.settings = own
    authority.save(update_fields=["settings"])
    Service.objects.exclude(name__in=service_names).delete()
    existing = set(Service.objects.values_list("name", flat=True))
    Service.objects.bulk_create(
        [Service(authority=authority, name=name) for name in service_names if name not in existing]
    )


def purge_expired(authority) -> int:
    """Delete the messages closed (or answered and left open) more than the retention period ago, with their
    drafts, replies and events; the drafts' generations keep their audit figures but lose their text. Call
    inside the authority's tenant context."""
    cutoff = timezone.now() - relativedelta(months=rules.retention_months(authority))
    # Answered messages nobody closed count from their reply: they hold the same personal data.
    expired = list(
        Message.objects.filter(
            Q(state=State.CLOSED, closed_at__lt=cutoff) | Q(state=State.REPLIED, replied_at__lt=cutoff)
        ).values_list("pk", flat=True)
    )
    if not expired:
        return 0
    generations = Draft.objects.filter(message_id__in=expired).values_list("generation_id", flat=True)
    Generation.objects.filter(pk__in=list(generations)).update(output="", input={}, query="", sources=[], result={})
    Event.objects.filter(message_id__in=expired).delete()
    Message.objects.filter(pk__in=expired).update(working_draft=None)
    Reply.objects.filter(message_id__in=expired).delete()
    Draft.objects.filter(message_id__in=expired).delete()
    Message.objects.filter(pk__in=expired).delete()
    logger.info("Purged %s closed messages of authority %s", len(expired), authority.pk)
    return len(expired)
