"""The citizens' side, without login: the form to write to the town hall (proof of work and a per-IP rate
limit keep bots out), the replies published with the citizen's consent, and the signed link to rate a reply.

Like the public register, the authority comes from the URL and every query runs in its tenant context.
"""

import logging
from datetime import date

import redis
from django.conf import settings
from django.core import signing
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_ratelimit.core import is_ratelimited

from apps.tenants.public import public_authority

from . import bots, selectors, services
from .errors import InboxError
from .forms import BOT_MESSAGE, CitizenRatingForm, ContactForm
from .mail import reply_for_token
from .models import Reply, Service

logger = logging.getLogger(__name__)
UNAVAILABLE_MESSAGE = (
    "Le service est momentanément indisponible : votre message n'a pas été envoyé. Il est conservé ci-dessous ; "
    "réessayez dans quelques minutes."
)
RECEIPT, RECEIPT_SECONDS = "inbox.receipt", 7 * 24 * 3600
RATE_MESSAGE = (
    "Vous avez envoyé plusieurs messages en peu de temps. Pour éviter les envois automatiques, "
    "réessayez dans une heure, ou appelez la mairie."
)


def _rate_limited(request, slug: str) -> bool:
    return is_ratelimited(
        request,
        group=f"inbox-form:{slug}",
        key=bots.client_ip,
        rate=settings.INBOX_FORM_RATE,
        method="POST",
        increment=True,
    )


def _checks(request, slug: str) -> tuple[bool | None, bool]:
    """(rate-limited, proof of work valid); (None, False) when Redis cannot answer."""
    try:
        limited = _rate_limited(request, slug)
        return limited, not limited and bots.solution_is_valid(request.POST.get("altcha", ""))
    except redis.RedisError:
        logger.exception("Public form of %s: Redis unavailable for the anti-bot checks", slug)
        return None, False


@never_cache
def write(request, slug):
    with public_authority(slug) as authority:
        services_list = Service.objects.all()
        form = ContactForm(request.POST or None, services=services_list)
        status = 200
        if request.method == "POST":
            status = 400
            limited, human = _checks(request, slug)
            if limited is None:  # the checks cannot be made: refuse, keep what the citizen wrote
                form.add_error(None, UNAVAILABLE_MESSAGE)
                status = 503
            elif limited:
                logger.warning("Public form of %s rate-limited for one address", slug)
                form.add_error(None, RATE_MESSAGE)
                status = 429
            elif not human:
                form.add_error(None, BOT_MESSAGE)
            elif form.is_valid():
                data = form.cleaned_data
                try:
                    message, _ = services.receive_message(
                        authority=authority,
                        sender_name=data["sender_name"],
                        sender_email=data["sender_email"],
                        subject=data["subject"],
                        body=data["body"],
                        service=data["service"],
                        consent_publication=data["consent_publication"],
                    )
                except InboxError as exc:
                    form.add_error(None, exc.user_message)
                else:
                    # The receipt travels in the URL, signed: no session cookie for citizens.
                    receipt = signing.dumps({"id": message.pk, "due_on": message.due_on.isoformat()}, salt=RECEIPT)
                    return redirect(f"{reverse('inbox-public-sent', args=[authority.slug])}?recu={receipt}")
        return render(request, "inbox/public/write.html", {"authority": authority, "form": form}, status=status)


@never_cache
@require_safe
def challenge(request, slug):
    with public_authority(slug):
        return JsonResponse(bots.new_challenge())


@require_safe
def sent(request, slug):
    with public_authority(slug) as authority:
        try:
            receipt = signing.loads(request.GET.get("recu", ""), salt=RECEIPT, max_age=RECEIPT_SECONDS)
            receipt["due_on"] = date.fromisoformat(receipt["due_on"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            receipt = None
        return render(request, "inbox/public/sent.html", {"authority": authority, "receipt": receipt})


@require_safe
def published(request, slug):
    with public_authority(slug) as authority:
        replies = list(selectors.published_replies()[:100])
        return render(request, "inbox/public/published.html", {"authority": authority, "replies": replies})


@never_cache
def rate(request, slug, token):
    """The citizen's rating of a reply, once, through the link of the e-mail (no account)."""
    ids = reply_for_token(token)
    if ids is None:
        raise Http404
    with public_authority(slug) as authority:
        if authority.pk != ids[0]:
            raise Http404
        reply = get_object_or_404(Reply.objects.select_related("message"), pk=ids[1])
        form = CitizenRatingForm(request.POST or None)
        done = reply.citizen_rating is not None
        if request.method == "POST" and not done and form.is_valid():
            try:
                services.rate_reply(reply=reply, **form.cleaned_data)
                done = True
            except InboxError as exc:
                form.add_error(None, exc.user_message)
        return render(
            request,
            "inbox/public/rate.html",
            {"authority": authority, "reply": reply, "form": form, "done": done},
            status=400 if form.errors else 200,
        )


urlpatterns = [
    path("registre/<slug:slug>/ecrire/", write, name="inbox-public-write"),
    path("registre/<slug:slug>/ecrire/defi/", challenge, name="inbox-public-challenge"),
    path("registre/<slug:slug>/ecrire/envoye/", sent, name="inbox-public-sent"),
    path("registre/<slug:slug>/reponses/", published, name="inbox-public-replies"),
    path("registre/<slug:slug>/avis/<str:token>/", rate, name="inbox-public-rating"),
]
