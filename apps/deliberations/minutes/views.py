"""Pages to extract deliberations from council minutes: choose a procès-verbal, follow the job, review
each proposal (correct it, then « Valider » creates the deliberation, « Écarter » drops it)."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from apps.documents.models import Document
from apps.tenants.decorators import ability_required

from .. import nomenclature
from ..models import Session
from ..scdl.fields import VOTE_FIELDS
from . import generative
from .extraction import MINUTES_KINDS, MinutesError, latest_job, start_extraction
from .review import Status, accept_proposal, proposal_by_id, reject_proposal

DECISIONS = [
    "Adoptée à l'unanimité",
    "Adoptée",
    "Adoptée à la majorité",
    "Rejetée",
    "Retirée de l'ordre du jour",
    "Ajournée",
    "Prend acte",
    "Avis favorable",
    "Avis défavorable",
]


class ProposalForm(forms.Form):
    objet = forms.CharField(label="Objet", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    delib_id = forms.CharField(
        label="N° de la délibération",
        max_length=100,
        help_text="Proposé à la suite des numéros de l'année : modifiez-le si besoin.",
    )
    delib_date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    decision = forms.CharField(
        label="Décision", max_length=200, required=False, widget=forms.TextInput(attrs={"list": "decisions-connues"})
    )
    vote_effectif = forms.IntegerField(label="Membres en exercice", min_value=0, required=False)
    vote_reel = forms.IntegerField(label="Votants", min_value=0, required=False)
    vote_pour = forms.IntegerField(label="Pour", min_value=0, required=False)
    vote_contre = forms.IntegerField(label="Contre", min_value=0, required=False)
    vote_abstention = forms.IntegerField(label="Abstentions", min_value=0, required=False)
    matiere_code = forms.ChoiceField(label="Matière @ctes (facultatif)", required=False)
    matiere_confirmed = forms.BooleanField(
        label="Je confirme cette matière",
        required=False,
        help_text="Sans confirmation, une matière suggérée reste à confirmer.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["matiere_code"].choices = [("", "— À classer plus tard —"), *nomenclature.choices(max_level=2)]


def proposal_form(session: Session, proposal: dict, data=None) -> ProposalForm:
    suggestion = proposal.get("matiere_suggestion") or {}
    initial = {key: proposal.get(key) for key in ("objet", "delib_id", "decision", *VOTE_FIELDS)}
    initial |= {"delib_date": session.date, "matiere_code": suggestion.get("code", "")}
    return ProposalForm(data, initial=initial, prefix=f"p-{proposal['id']}")


@ability_required("minutes", "create")
def minutes_documents(request):
    """The authority's procès-verbaux and comptes rendus, each with « Proposer les délibérations »."""
    if request.method == "POST":
        chosen = request.POST.get("document", "")
        document = get_object_or_404(Document.objects.defer("pages"), pk=int(chosen) if chosen.isdigit() else 0)
        try:
            session, _ = start_extraction(authority=request.authority, document=document, created_by=request.user)
        except MinutesError as exc:
            messages.error(request, f"« {document.title} » : {exc.user_message}")
            return redirect("deliberation-minutes")
        messages.success(request, "Extraction lancée : les propositions s'affichent dès qu'elle est terminée.")
        return redirect("deliberation-minutes-review", pk=session.pk)
    documents = Document.objects.filter(kind__in=MINUTES_KINDS)
    if (chosen := request.GET.get("document", "")).isdigit():  # from a document's page, whatever its type
        documents = documents | Document.objects.filter(pk=int(chosen))
    documents = list(documents.select_related("collection").defer("pages").order_by("-date", "-created_at")[:200])
    sessions = {s.minutes_id: s for s in Session.objects.filter(minutes__in=documents).order_by("pk")}
    rows = [(d, sessions.get(d.pk), _pending(sessions.get(d.pk))) for d in documents]
    return render(
        request,
        "deliberations/minutes/documents.html",
        {"rows": rows, "model_enabled": generative.is_enabled(), "chosen": chosen},
    )


def _pending(session: Session | None) -> int:
    return sum(1 for p in (session.proposals if session else []) if p.get("status") == Status.PENDING)


@ability_required("minutes", "review")
def minutes_review(request, pk, forms_by_id=None, status=200):
    """A session's proposals, as forms; while the extraction runs, htmx polls its progress."""
    session = get_object_or_404(Session.objects.select_related("minutes"), pk=pk)
    job = latest_job(session)
    if request.htmx and request.GET.get("fragment") == "progression":
        if job is None or not job.is_active:  # done: reload the page to show the proposals
            return HttpResponse("<p>Extraction terminée.</p>", headers={"HX-Refresh": "true"})
        return render(request, "deliberations/minutes/_progress.html", {"session": session, "job": job})
    forms_by_id = forms_by_id or {}
    cards = [
        {"proposal": proposal, "form": forms_by_id.get(proposal["id"]) or proposal_form(session, proposal)}
        for proposal in session.proposals or []
    ]
    counts = {
        state: sum(1 for c in cards if c["proposal"].get("status") == state)
        for state in (Status.PENDING, Status.ACCEPTED, Status.REJECTED)
    }
    return render(
        request,
        "deliberations/minutes/review.html",
        {
            "session": session,
            "job": job,
            "cards": cards,
            "counts": counts,
            "decisions": DECISIONS,
            "notices": (job.result or {}).get("notices", []) if job else [],
        },
        status=status,
    )


@ability_required("minutes", "accept")
@require_POST
def minutes_accept(request, pk, proposal_id):
    session = get_object_or_404(Session, pk=pk)
    try:
        proposal = proposal_by_id(session, proposal_id)
    except MinutesError as exc:
        messages.error(request, exc.user_message)
        return redirect("deliberation-minutes-review", pk=pk)
    form = proposal_form(session, proposal, data=request.POST)
    if form.is_valid():
        try:
            deliberation = accept_proposal(session=session, proposal_id=proposal_id, values=form.cleaned_data)
        except MinutesError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
            if not exc.errors:
                form.add_error(None, exc.user_message)
        else:
            messages.success(request, f"Délibération {deliberation.delib_id} enregistrée (non publiée).")
            return redirect(f"{reverse('deliberation-minutes-review', args=[pk])}#proposition-{proposal_id}")
    return minutes_review(request, pk, forms_by_id={proposal_id: form}, status=400)


@ability_required("minutes", "reject")
@require_POST
def minutes_reject(request, pk, proposal_id):
    session = get_object_or_404(Session, pk=pk)
    try:
        reject_proposal(session=session, proposal_id=proposal_id)
    except MinutesError as exc:
        messages.error(request, exc.user_message)
    else:
        messages.success(request, "Proposition écartée.")
    return redirect(f"{reverse('deliberation-minutes-review', args=[pk])}#proposition-{proposal_id}")


@ability_required("minutes", "create")
@require_POST
def minutes_rerun(request, pk):
    """Extract again (after a re-index, or once a model is configured): pending proposals are replaced."""
    session = get_object_or_404(Session.objects.select_related("minutes"), pk=pk)
    if session.minutes is None:
        messages.error(request, "Le procès-verbal de cette séance a été supprimé.")
    else:
        try:
            start_extraction(authority=request.authority, document=session.minutes, created_by=request.user)
        except MinutesError as exc:
            messages.error(request, exc.user_message)
        else:
            messages.success(request, "Nouvelle extraction lancée : les décisions déjà prises sont conservées.")
    return redirect("deliberation-minutes-review", pk=pk)


urlpatterns = [
    path("deliberations/proces-verbaux/", minutes_documents, name="deliberation-minutes"),
    path("deliberations/seances/<int:pk>/revue/", minutes_review, name="deliberation-minutes-review"),
    path(
        "deliberations/seances/<int:pk>/revue/<slug:proposal_id>/valider/",
        minutes_accept,
        name="deliberation-minutes-accept",
    ),
    path(
        "deliberations/seances/<int:pk>/revue/<slug:proposal_id>/ecarter/",
        minutes_reject,
        name="deliberation-minutes-reject",
    ),
    path("deliberations/seances/<int:pk>/extraire/", minutes_rerun, name="deliberation-minutes-rerun"),
]
