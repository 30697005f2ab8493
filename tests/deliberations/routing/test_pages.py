"""Pages of subject routing: the « Classement » page, confirming with htmx or without, the batch of safe
suggestions, the trial form, and the partial shown on the deliberation's page."""

import html
import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from apps.deliberations.models import Deliberation
from apps.deliberations.routing.job import JOB_KIND
from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import add_deliberation, suggestion

Role = Membership.Role
pytestmark = pytest.mark.django_db
ROUTING = reverse("deliberation-routing")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def subvention(authority):
    return add_deliberation(
        authority,
        "Attribution d'une subvention au club de basket",
        embed=False,
        delib_id="2024_001",
        suggestions=[suggestion("7.5", 0.82), suggestion("7.10", 0.1), suggestion("7", 0.95, level=1)],
    )


@pytest.fixture
def acquisition(authority):
    return add_deliberation(
        authority,
        "Acquisition d'une parcelle rue des Lilas",
        embed=False,
        delib_id="2024_002",
        suggestions=[suggestion("3.1", 0.55), suggestion("3.2", 0.3)],
    )


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).replace("\xa0", " ").split())


def stored(authority, deliberation) -> Deliberation:
    with tenant_context(authority.pk):
        return Deliberation.objects.get(pk=deliberation.pk)


def test_the_classement_page_lists_pending_suggestions_with_their_confidence(
    authority, member, client_for, subvention, acquisition
):
    add_deliberation(authority, "Déjà classée", "1.1", embed=False, suggestions=[suggestion("1.1", 0.9)])
    response = client_for(member(authority, Role.AGENT)).get(ROUTING)
    assert response.status_code == 200
    page = text(response)
    assert "Accepter 7.5 Subventions — 82 %" in page and "Accepter 3.1 Acquisitions — 55 %" in page
    assert "Délibérations en attente de matière (2)" in page and "Déjà classée" not in page
    assert "Accepter les suggestions sûres (≥ 80 %) : 1" in page
    assert '<option value="7.10">7.10 Divers</option>' in response.content.decode()


def test_readers_do_not_reach_the_classement_page(authority, member, client_for):
    assert client_for(member(authority, Role.READER)).get(ROUTING).status_code == 403


def test_confirming_with_htmx_swaps_the_block_and_stores_the_matiere(authority, member, client_for, subvention):
    response = client_for(member(authority, Role.AGENT)).post(
        reverse("deliberation-matiere", args=[subvention.pk]), {"code": "7.5"}, **HTMX
    )
    assert response.status_code == 200
    assert f'id="matiere-{subvention.pk}"' in response.content.decode()
    assert "Matière confirmée : 7.5 Finances locales/Subventions" in text(response)
    row = stored(authority, subvention)
    assert row.matiere_code == "7.5" and row.matiere_confirmed and row.matiere_suggestions == []


def test_choosing_another_matiere_without_javascript_redirects_back(authority, member, client_for, subvention):
    response = client_for(member(authority, Role.AGENT)).post(
        reverse("deliberation-matiere", args=[subvention.pk]), {"code": "7.10", "next": ROUTING}
    )
    assert response.status_code == 302 and response.url == ROUTING
    assert stored(authority, subvention).matiere_nom == "Finances locales/Divers"


def test_an_invalid_choice_is_explained_and_nothing_changes(authority, member, client_for, subvention):
    client = client_for(member(authority, Role.AGENT))
    url = reverse("deliberation-matiere", args=[subvention.pk])
    assert "Choisissez une matière." in text(client.post(url, {"code": ""}, **HTMX))
    response = client.post(url, {"code": "42.1"})
    assert response.status_code == 400 and "n'est pas une matière de niveau 2" in text(response)
    assert stored(authority, subvention).matiere_code == ""


def test_a_reader_sees_suggestions_but_cannot_confirm(authority, member, client_for, subvention):
    client = client_for(member(authority, Role.READER))
    url = reverse("deliberation-matiere", args=[subvention.pk])
    page = client.get(url)
    assert "7.5 Subventions — 82 %" in text(page) and "Accepter" not in text(page)
    client.post(url, {"code": "7.5"})
    assert stored(authority, subvention).matiere_code == ""


def test_another_authority_gets_404(authority, other_authority, member, client_for, subvention):
    with tenant_context(authority.pk):
        Deliberation.objects.filter(pk=subvention.pk).update(published=True)
    client = client_for(member(other_authority, Role.AGENT))
    url = reverse("deliberation-matiere", args=[subvention.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"code": "7.5"}, **HTMX).status_code == 404
    assert stored(authority, subvention).matiere_code == ""


def test_accepting_safe_suggestions_confirms_only_those_at_80_percent(
    authority, member, client_for, subvention, acquisition
):
    response = client_for(member(authority, Role.AGENT)).post(reverse("deliberation-routing-accept-safe"), follow=True)
    assert "1 matière(s) confirmée(s)" in text(response)
    assert stored(authority, subvention).matiere_code == "7.5"
    assert stored(authority, acquisition).matiere_code == ""


def test_the_classify_button_queues_a_job_for_deliberations_without_matiere(authority, member, client_for, subvention):
    target = add_deliberation(authority, "Tarifs de la restauration scolaire", embed=False)
    response = client_for(member(authority, Role.AGENT)).post(reverse("deliberation-routing-run"))
    assert response.status_code == 302
    with tenant_context(authority.pk):
        job = Job.objects.get(kind=JOB_KIND)
    assert job.params["ids"] == [target.pk]


def test_suggest_button_computes_suggestions_for_one_deliberation(authority, member, client_for):
    target = add_deliberation(authority, "Emprunts", embed=False)
    response = client_for(member(authority, Role.AGENT)).post(
        reverse("deliberation-matiere", args=[target.pk]), {"suggest": "1"}, **HTMX
    )
    assert "Accepter 7.3 Emprunts" in text(response)
    assert stored(authority, target).matiere_suggestions[0]["code"] == "7.3"


def test_the_trial_form_suggests_for_a_typed_objet_and_stores_nothing(authority, member, client_for):
    client = client_for(member(authority, Role.READER))
    url = reverse("deliberation-routing-try")
    assert client.get(url).status_code == 200
    response = client.post(url, {"objet": "Marchés publics"}, **HTMX)
    assert "Matières suggérées pour cet objet" in text(response) and "1.1 Marchés publics" in text(response)
    empty = client.post(url, {"objet": "  "})
    assert empty.status_code == 400 and "Indiquez l'objet de la délibération." in text(empty)
    with tenant_context(authority.pk):
        assert not Deliberation.objects.exists()


def test_the_partial_renders_with_only_the_deliberation_for_the_deliberation_page(authority, member, subvention):
    request = RequestFactory().get(reverse("deliberation-detail", args=[subvention.pk]))
    request.user, request.role = member(authority, Role.AGENT), Role.AGENT  # as TenantMiddleware sets them
    block = render_to_string("deliberations/routing/_suggestions.html", {"deliberation": subvention}, request=request)
    assert "Accepter 7.5 Subventions" in block and "Choisir une autre matière…" in block
    assert reverse("deliberation-matiere", args=[subvention.pk]) in block
