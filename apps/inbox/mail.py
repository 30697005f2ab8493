"""The e-mail that carries a validated reply to the citizen: the reply, its AI label, and the signed link
to rate it (no account). Sent by a job, once: `emailed_at` makes a retried job a no-op."""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.jobs.runner import JobRun

from .models import Reply

RATING_SALT = "inbox.reply-rating"
SEND_JOB = "inbox.send_reply"


def rating_token(reply: Reply) -> str:
    return signing.dumps({"a": reply.authority_id, "r": reply.pk}, salt=RATING_SALT, compress=True)


def reply_for_token(token: str) -> tuple[int, int] | None:
    """(authority id, reply id) of a rating link; None for a forged or mangled one."""
    try:
        data = signing.loads(token, salt=RATING_SALT)
        return int(data["a"]), int(data["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def rating_url(reply: Reply) -> str:
    path = reverse("inbox-public-rating", args=[reply.authority.slug, rating_token(reply)])
    return settings.SITE_URL.rstrip("/") + path


def send_reply_email(run: JobRun) -> dict:
    with run.tenant():
        replies = Reply.objects.select_related("message", "authority").select_for_update(of=("self",))
        reply = replies.get(pk=run.params["reply_id"])  # only the reply is locked while the mail server answers
        if reply.emailed_at:  # a redelivered job: the citizen has it already
            return {"message": "Déjà envoyé."}
        context = {
            "reply": reply,
            "message": reply.message,
            "authority": reply.authority,
            "rating_url": rating_url(reply),
        }
        email = EmailMessage(
            subject=f"Re : {reply.message.subject}",
            body=render_to_string("inbox/email/reply.txt", context),
            to=[reply.message.sender_email],
        )
        email.send()
        Reply.objects.filter(pk=reply.pk).update(emailed_at=timezone.now())
    return {"message": f"Réponse au message n° {reply.message_id} envoyée."}  # no address: jobs outlive retention
