"""« Délibérations similaires » on a deliberation's page (an htmx partial, or a page of its own), and
« Comparer », which hands a pair to the assistant's compare tool."""

import logging

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from apps.ai.models import Generation
from apps.assistant import services as assistant_services
from apps.assistant.errors import ToolInputError
from apps.assistant.writing.inputs import validate_inputs
from apps.documents.embeddings import EmbeddingUnavailable
from apps.tenants.decorators import ability_required
from apps.tenants.models import Authority

from ..models import Deliberation
from .comparison import visible_deliberation
from .selectors import similar_deliberations

logger = logging.getLogger(__name__)
OWN_LIMIT = 5
OTHERS_LIMIT = 10
UNAVAILABLE = (
    "La recherche de délibérations similaires est momentanément indisponible "
    "(calcul de la représentation du texte impossible) ; réessayez plus tard."
)


class SimilarFilterForm(forms.Form):
    authority_kind = forms.ChoiceField(
        label="Type de collectivité", required=False, choices=[("", "Tous les types"), *Authority.Kind.choices]
    )
    population_min = forms.IntegerField(label="Population minimale", required=False, min_value=0)
    population_max = forms.IntegerField(label="Population maximale", required=False, min_value=0)
    same_matiere = forms.BooleanField(label="Même matière (premier niveau)", required=False)

    def clean(self):
        data = super().clean()
        low, high = data.get("population_min"), data.get("population_max")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError("La population minimale dépasse la population maximale.")
        return data


def similar_lists(deliberation: Deliberation, filters: dict) -> dict:
    """The two lists of the section: own authority's, other authorities' published ones."""
    level1 = deliberation.matiere_level1 if filters.get("same_matiere") else ""
    own = similar_deliberations(deliberation=deliberation, scope="own", matiere_level1=level1, limit=OWN_LIMIT)
    others = similar_deliberations(
        deliberation=deliberation,
        scope="others",
        matiere_level1=level1,
        limit=OTHERS_LIMIT,
        authority_kind=filters.get("authority_kind") or "",
        population_min=filters.get("population_min"),
        population_max=filters.get("population_max"),
    )
    return {"own": own, "others": others}


@ability_required("deliberations", "similar")
def deliberation_similar(request, pk):
    deliberation = get_object_or_404(Deliberation.objects.select_related("authority"), pk=pk)
    form = SimilarFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    context = {
        "deliberation": deliberation,
        "form": form,
        "own": [],
        "others": [],
        "same_matiere_possible": bool(deliberation.matiere_code),
    }
    if not form.errors:
        try:
            with transaction.atomic():  # a savepoint: a failed query must not abort the page's transaction
                context |= similar_lists(deliberation, filters)
        except EmbeddingUnavailable:  # the embedder (local model or TEI server) failed: say so, keep the page
            logger.exception("Similar deliberations unavailable for deliberation %s", deliberation.pk)
            context["unavailable"] = UNAVAILABLE
    if request.htmx:  # htmx swaps 2xx only: errors are shown in the partial
        return render(request, "deliberations/similar/_section.html", context)
    return render(request, "deliberations/similar/page.html", context, status=400 if form.errors else 200)


@ability_required("deliberations", "compare")
@require_POST
def deliberation_compare(request, pk):
    """Compare this deliberation with another (own, or another authority's published one)."""
    deliberation = get_object_or_404(Deliberation, pk=pk)
    other_id = (request.POST.get("with") or "").strip()
    if not (other_id.isascii() and other_id.isdigit()):
        raise Http404
    other = visible_deliberation(int(other_id), request.authority.pk)
    if other is None:
        raise Http404
    try:
        inputs = validate_inputs(Generation.Task.COMPARE, {"deliberations": [deliberation.pk, other.pk]})
        generation = assistant_services.request_tool(
            authority=request.authority, user=request.user, task=Generation.Task.COMPARE, inputs=inputs
        )
    except (assistant_services.AssistantError, ToolInputError) as exc:
        if request.htmx:
            return render(request, "deliberations/similar/_compare.html", {"error": exc.user_message})
        messages.error(request, exc.user_message)
        return redirect("deliberation-similar", pk=deliberation.pk)
    if request.htmx:
        return render(request, "deliberations/similar/_compare.html", {"generation": generation, "other": other})
    return redirect("assistant-generation", pk=generation.pk)


urlpatterns = [
    path("deliberations/<int:pk>/similaires/", deliberation_similar, name="deliberation-similar"),
    path("deliberations/<int:pk>/similaires/comparer/", deliberation_compare, name="deliberation-similar-compare"),
]
