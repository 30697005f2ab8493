"""Pages of subject routing: the « Classement » page (suggestions waiting for an agent), confirming a
deliberation's matière (htmx partial also shown on the deliberation's page), and a trial form."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps import french
from apps.jobs.models import Job
from apps.tenants.abilities import can
from apps.tenants.decorators import ability_required

from .. import nomenclature
from ..models import Deliberation
from .job import JOB_KIND, enqueue_classification
from .selectors import pending, safe_pending, unclassified_ids
from .services import accept_safe_suggestions, confirm_matiere
from .suggestions import SAFE_SCORE, RoutingError, suggest_for, suggest_matieres

PAGE_SIZE = 25
MAX_OBJET_CHARS = 2000
MAX_TEXT_CHARS = 20_000


def matiere_choices() -> list[tuple[str, str]]:
    """Level-2 matières for the « Autre matière » select, grouped by level 1 as (label, options)."""
    groups, current = [], None
    for matiere in nomenclature.all_matieres():
        if matiere.level == 1:
            current = (f"{matiere.code} {matiere.label}", [])
            groups.append(current)
        elif matiere.level == 2 and current is not None:
            current[1].append((matiere.code, f"{matiere.code} {matiere.label}"))
    return groups


@ability_required("routing", "list")
def routing_page(request):
    page = Paginator(pending(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "matiere_choices": matiere_choices(),
        "safe_percent": round(SAFE_SCORE * 100),
        "safe_count": safe_pending().count(),
        "unclassified_count": len(unclassified_ids()),
        "last_job": Job.objects.filter(kind=JOB_KIND).order_by("-created_at", "-id").first(),
        "next": request.get_full_path(),
    }
    return render(request, "deliberations/routing/list.html", context)


@ability_required("routing", "confirm")
@require_POST
def accept_safe(request):
    accepted = accept_safe_suggestions(user=request.user)
    if accepted:
        messages.success(request, f"{accepted} matière(s) confirmée(s) d'après les suggestions sûres.")
    else:
        messages.info(request, f"Aucune suggestion n'atteint {round(SAFE_SCORE * 100)} %.")
    return redirect("deliberation-routing")


@ability_required("routing", "classify")
@require_POST
def run_classification(request):
    job = enqueue_classification(
        authority=request.authority, deliberation_ids=unclassified_ids(), created_by=request.user
    )
    if job is None:
        messages.info(request, "Toutes les délibérations ont une matière ou une suggestion.")
    else:
        messages.success(request, "Classement lancé : les suggestions apparaîtront ici une fois le travail terminé.")
    return redirect("deliberation-routing")


@ability_required("deliberations", "retrieve")
def deliberation_matiere(request, pk):
    """GET: the suggestions and the nomenclature (page or htmx partial). POST (agent): confirm a code,
    or compute suggestions with `suggest=1`."""
    deliberation = get_object_or_404(Deliberation, pk=pk)
    context = {"deliberation": deliberation, "matiere_choices": matiere_choices(), "next": _next(request)}
    if request.method == "POST":
        if not can(request.role, "routing", "confirm"):
            messages.error(request, "Votre rôle ne permet pas de choisir la matière.")
            return redirect("deliberation-detail", pk=pk)
        done = (
            _suggest(request, deliberation, context)
            if request.POST.get("suggest")
            else _confirm(request, deliberation, context)
        )
        if done and not request.htmx:
            return redirect(context["next"] or "deliberation-routing")
    if request.htmx:
        return render(request, "deliberations/routing/_suggestions.html", context)
    return render(
        request, "deliberations/routing/matiere.html", context, status=400 if context.get("routing_error") else 200
    )


def _confirm(request, deliberation, context) -> bool:
    try:
        confirm_matiere(deliberation=deliberation, code=request.POST.get("code", ""), user=request.user)
    except RoutingError as error:
        context["routing_error"] = str(error)
        return False
    context["routing_confirmed"] = True
    if not request.htmx:
        messages.success(request, f"Matière « {deliberation.matiere_code} {deliberation.matiere_nom} » confirmée.")
    return True


def _suggest(request, deliberation, context) -> bool:
    try:
        suggest_for(deliberation)
    except RoutingError as error:
        context["routing_error"] = str(error)
        return False
    return not request.htmx


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()) else ""


@ability_required("routing", "suggest")
def try_classifier(request):
    """Suggestions for a typed objet (and text), without storing anything."""
    objet, text = (request.POST.get("objet") or "").strip(), (request.POST.get("text") or "").strip()
    context = {"objet": objet, "text": text, "max_objet": MAX_OBJET_CHARS}
    if request.method == "POST":
        if len(objet) > MAX_OBJET_CHARS or len(text) > MAX_TEXT_CHARS:
            context["trial_error"] = (
                f"L'objet est limité à {french.number(MAX_OBJET_CHARS)} caractères et le "
                f"texte à {french.number(MAX_TEXT_CHARS)} caractères."
            )
        else:
            try:
                context["suggestions"] = suggest_matieres(authority_id=request.authority.pk, objet=objet, text=text)
            except RoutingError as error:
                context["trial_error"] = str(error)
    if request.htmx:
        return render(request, "deliberations/routing/_trial.html", context)
    return render(
        request, "deliberations/routing/trial.html", context, status=400 if context.get("trial_error") else 200
    )


urlpatterns = [
    path("deliberations/classement/", routing_page, name="deliberation-routing"),
    path("deliberations/classement/suggestions-sures/", accept_safe, name="deliberation-routing-accept-safe"),
    path("deliberations/classement/lancer/", run_classification, name="deliberation-routing-run"),
    path("deliberations/classement/essai/", try_classifier, name="deliberation-routing-try"),
    path("deliberations/<int:pk>/matiere/", deliberation_matiere, name="deliberation-matiere"),
]
