"""Agents' pages of the inbox: the list, a message with its thread and the reply editor, drafting (streamed),
the check before sending (AI share and differences with the draft), « Valider et envoyer », ratings, settings."""

import csv

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.ai.calls import is_generative
from apps.assistant.sse import generation_events
from apps.tenants.decorators import ability_required

from . import selectors, services, stats
from .comparison import without_markers, word_diff
from .errors import InboxError
from .forms import AssignForm, DraftRatingForm, FilterForm, InboxSettingsForm, ReplyForm
from .models import Draft, Message, Service, ai_label
from .publication import public_version
from .rules import reply_days, retention_months

PAGE_SIZE = 30
DASHBOARD_MONTHS = 12
CSV_COLUMNS = {
    "message_id": "message",
    "service": "service",
    "received_at": "reçu le",
    "sent_at": "répondu le",
    "days": "délai (jours)",
    "ai_assisted": "aidé par l'IA",
    "ai_share": "part d'IA (%)",
    "citizen_rating": "note de l'habitant",
    "draft_rating": "note du brouillon par l'agent",
}


def _message(pk) -> Message:
    return get_object_or_404(Message.objects.select_related("service", "assigned_to"), pk=pk)


def _draft(pk) -> Draft:
    return get_object_or_404(Draft.objects.select_related("generation", "message"), pk=pk)


def _to_message(message: Message, anchor: str = "reponse"):
    return redirect(f"{reverse('inbox-message', args=[message.pk])}#{anchor}")


@ability_required("messages", "list")
def inbox(request):
    form = FilterForm(request.GET or None)
    filters = form.filters()
    page = Paginator(selectors.inbox(filters, request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inbox/list.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "counts": selectors.counts(request.user),
            "query": query,
            "today": timezone.localdate(),
        },
    )


@ability_required("messages", "retrieve")
def message_page(request, pk):
    message = _message(pk)
    thread = selectors.thread(message)
    drafts = thread["drafts"]
    latest = drafts[0] if drafts else None
    editor_draft = message.working_draft if message.working_text else (latest if latest and latest.text else None)
    reply_form = ReplyForm(
        initial={
            "text": message.working_text or (services.draft_text(editor_draft) if editor_draft else ""),
            "draft": editor_draft.pk if editor_draft else None,
            "publish": message.consent_publication,
        }
    )
    return render(
        request,
        "inbox/message.html",
        {
            "message": message,
            **thread,
            "latest_draft": latest,
            "assign_form": AssignForm(initial={"service": message.service, "assigned_to": message.assigned_to}),
            "reply_form": reply_form,
            "rating_form": DraftRatingForm(),
            "generative": is_generative(),
            "today": timezone.localdate(),
        },
    )


@ability_required("messages", "assign")
@require_POST
def assign(request, pk):
    message = _message(pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        services.assign(
            message=message,
            user=request.user,
            service=form.cleaned_data["service"],
            assigned_to=form.cleaned_data["assigned_to"],
        )
        flash.success(request, "Attribution enregistrée.")
    else:
        flash.error(request, "Choisissez un service ou un agent de la liste.")
    return _to_message(message, "attribution")


@ability_required("messages", "draft")
@require_POST
def request_draft(request, pk):
    message = _message(pk)
    try:
        draft = services.request_draft(message=message, user=request.user)
    except InboxError as exc:
        if request.htmx:
            return render(request, "inbox/_draft_refused.html", {"error": exc.user_message})
        flash.error(request, exc.user_message)
        return _to_message(message)
    if request.htmx:
        # Streams into the editor when the agent has not written anything yet (inbox.js).
        return render(
            request,
            "inbox/_draft.html",
            {"draft": draft, "message": message, "stream_to_editor": True, "rating_form": DraftRatingForm()},
        )
    return _to_message(message, "brouillon")


@ability_required("messages", "draft")
def draft_stream(request, pk):
    return generation_events(_draft(pk).generation, request.headers.get("Last-Event-ID", ""))


@ability_required("messages", "draft")
def draft_fragment(request, pk):
    draft = _draft(pk)
    return render(
        request, "inbox/_draft.html", {"draft": draft, "message": draft.message, "rating_form": DraftRatingForm()}
    )


@ability_required("messages", "draft")
@require_POST
def insert_draft(request, pk):
    """Without JavaScript (or to start again from a draft): the draft becomes the reply in progress."""
    draft = _draft(pk)
    try:
        services.save_working_text(
            message=draft.message, user=request.user, text=services.draft_text(draft), draft=draft
        )
    except InboxError as exc:
        flash.error(request, exc.user_message)
    return _to_message(draft.message)


def _reply_form(request, message):
    form = ReplyForm(request.POST)
    if not form.is_valid():
        raise InboxError("La réponse est trop longue ou incomplète.")
    data = form.cleaned_data
    draft = None
    if data.get("draft"):
        draft = Draft.objects.filter(pk=data["draft"], message=message).select_related("generation").first()
    return data, draft


@ability_required("messages", "reply")
@require_POST
def save_reply(request, pk):
    message = _message(pk)
    try:
        data, draft = _reply_form(request, message)
        services.save_working_text(message=message, user=request.user, text=data["text"], draft=draft)
        flash.success(request, "Réponse enregistrée (non envoyée).")
    except InboxError as exc:
        flash.error(request, exc.user_message)
    return _to_message(message)


@ability_required("messages", "reply")
@require_POST
def check_reply(request, pk):
    """The step before sending: what the citizen will receive, the AI share, the differences with the draft."""
    message = _message(pk)
    try:
        data, draft = _reply_form(request, message)
        with transaction.atomic():
            services.save_working_text(message=message, user=request.user, text=data["text"], draft=draft)
        text = without_markers(services.clean_text(data["text"]))
        if not text:
            raise InboxError("La réponse est vide.")
    except InboxError as exc:
        flash.error(request, exc.user_message)
        return _to_message(message)
    share, draft = services.measured_share(message, text)
    publish = data["publish"] and message.consent_publication
    title, public_text = public_version(message.subject, text) if publish else ("", "")
    return render(
        request,
        "inbox/check.html",
        {
            "message": message,
            "text": text,
            "draft": draft,
            "share": share,
            "label": ai_label(share),
            "diff": word_diff(services.draft_text(draft), text) if draft else [],
            "publish": publish,
            "public_title": title,
            "public_text": public_text,
        },
    )


@ability_required("messages", "reply")
@require_POST
def send_reply(request, pk):
    """« Valider et envoyer »: only reachable from the check page, which posts `validated`."""
    message = _message(pk)
    if request.POST.get("validated") != "1":
        flash.error(request, "Vérifiez la réponse avant de l'envoyer.")
        return _to_message(message)
    try:
        data, _draft = _reply_form(request, message)
        reply = services.send_reply(message=message, user=request.user, text=data["text"], publish=data["publish"])
    except InboxError as exc:
        flash.error(request, exc.user_message)
        return _to_message(message)
    flash.success(request, f"Réponse validée et envoyée à {message.sender_email}. {reply.label}")
    return _to_message(message, "fil")


@ability_required("messages", "rate")
@require_POST
def rate_draft(request, pk):
    draft = _draft(pk)
    form = DraftRatingForm(request.POST)
    try:
        if not form.is_valid():
            raise InboxError("Choisissez une note de 1 à 5 et un motif.")
        services.rate_draft(draft=draft, user=request.user, **form.cleaned_data)
        flash.success(request, "Merci, votre avis sur ce brouillon est enregistré.")
    except InboxError as exc:
        flash.error(request, exc.user_message)
    return _to_message(draft.message, f"brouillon-{draft.pk}")


@ability_required("messages", "close")
@require_POST
def close(request, pk):
    message = _message(pk)
    if request.POST.get("reopen"):
        services.reopen(message=message, user=request.user)
        flash.success(request, "Message rouvert.")
    else:
        services.close(message=message, user=request.user)
        flash.success(request, "Message clos.")
    return _to_message(message, "fil")


@ability_required("messages", "settings")
def inbox_settings(request):
    authority = request.authority
    initial = {
        "reply_days": reply_days(authority),
        "retention_months": retention_months(authority),
        "services": "\n".join(Service.objects.values_list("name", flat=True)),
    }
    form = InboxSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.update_settings(
            authority=authority,
            reply_days=form.cleaned_data["reply_days"],
            retention_months=form.cleaned_data["retention_months"],
            service_names=form.service_names(),
        )
        flash.success(request, "Réglages de la messagerie enregistrés.")
        return redirect("inbox-settings")
    return render(request, "inbox/settings.html", {"form": form}, status=400 if form.errors else 200)


@ability_required("messages", "dashboard")
def dashboard(request):
    return render(request, "inbox/dashboard.html", {"board": stats.dashboard(months=DASHBOARD_MONTHS)})


@ability_required("messages", "dashboard")
def dashboard_csv(request):
    """One line per reply of the period, without names, addresses or texts: for a spreadsheet."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="messagerie-{request.authority.slug}.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(response, delimiter=";")
    writer.writerow(CSV_COLUMNS.values())
    for row in stats.reply_rows(months=DASHBOARD_MONTHS):
        writer.writerow(_csv_value(row[key]) for key in CSV_COLUMNS)
    return response


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")  # a French spreadsheet's decimal comma
    if hasattr(value, "isoformat"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)
