"""Agents' pages of the register: who may read and edit, the form's SCDL checks, publishing, the
filters (year, matière 7.1 vs 7.10, search in objets and acts), sessions and the CSV export."""

import datetime
import html

import pytest
from django.urls import reverse

from apps.deliberations.models import Deliberation, Session
from apps.deliberations.scdl.reading import open_scdl
from apps.deliberations.scdl.validation import validate_rows
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import RENNES_SIRET, add, add_rennes, index_act

Role = Membership.Role
pytestmark = pytest.mark.django_db

FORM = {
    "delib_id": "2024-015",
    "delib_date": "2024-03-12",
    "objet": "Tarifs de la restauration scolaire",
    "matiere_code": "7.10",
    "decision": "Adoptée",
    "coll_nom": "Commune A",
    "coll_siret": RENNES_SIRET,
    "vote_effectif": "19",
    "vote_reel": "17",
    "vote_pour": "15",
    "vote_contre": "1",
    "vote_abstention": "1",
    "budget_annee": "",
    "budget_nom": "",
    "pref_id": "",
    "pref_date": "",
    "delib_url": "",
}


@pytest.fixture
def deliberation(authority):
    return add(authority, delib_id="2023-001", objet="Subvention au club de football", published=False)


def agent_pages(pk):
    return [
        reverse("deliberations"),
        reverse("deliberation-detail", args=[pk]),
        reverse("deliberation-new"),
        reverse("deliberation-edit", args=[pk]),
        reverse("deliberations-export"),
        reverse("deliberation-sessions"),
    ]


def test_anonymous_visitors_are_sent_to_the_login_page(client, deliberation):
    for url in agent_pages(deliberation.pk):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    response = client.post(reverse("deliberation-publish", args=[deliberation.pk]), {"published": "1"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_reader_reads_the_register_but_cannot_change_it(authority, member, client_for, deliberation):
    client = client_for(member(authority, Role.READER))
    list_page = client.get(reverse("deliberations")).content.decode()
    assert "Subvention au club de football" in list_page and "Nouvelle délibération" not in list_page
    detail = client.get(reverse("deliberation-detail", args=[deliberation.pk])).content.decode()
    assert "2023-001" in detail and "Modifier" not in detail
    assert client.get(reverse("deliberation-new")).status_code == 403
    assert client.get(reverse("deliberation-edit", args=[deliberation.pk])).status_code == 403
    assert client.post(reverse("deliberation-publish", args=[deliberation.pk]), {"published": "1"}).status_code == 403
    assert client.post(reverse("deliberation-delete", args=[deliberation.pk])).status_code == 403
    assert client.post(reverse("deliberation-sessions"), {"date": "2024-01-01"}).status_code == 403
    with tenant_context(authority.pk):
        assert Deliberation.objects.get(pk=deliberation.pk).published is False


def test_agent_creates_a_deliberation_with_its_matiere_label_from_the_nomenclature(authority, member, client_for):
    client = client_for(member(authority, Role.AGENT))
    assert 'value="Commune A"' in client.get(reverse("deliberation-new")).content.decode()
    response = client.post(reverse("deliberation-new"), FORM)
    assert response.status_code == 302, response.content.decode()
    with tenant_context(authority.pk):
        created = Deliberation.objects.get(delib_id="2024-015")
    assert response.url == reverse("deliberation-detail", args=[created.pk])
    assert (created.matiere_code, created.matiere_nom) == ("7.10", "Finances locales/Divers")
    assert created.matiere_confirmed and created.origin == Deliberation.Origin.MANUAL
    assert (created.vote_pour, created.vote_reel, created.published) == (15, 17, False)


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"coll_siret": "21350238800018"}, "SIRET valide"),
        ({"vote_pour": "20"}, "diffère"),
        ({"vote_effectif": ""}, "remplissez-les toutes"),
        ({"budget_annee": "2024/2023"}, "la seconde année doit suivre"),
        ({"pref_date": "2024-03-01"}, "avant d'avoir été adopté"),
        ({"objet": ""}, "obligatoire"),
    ],
)
def test_the_form_refuses_what_the_scdl_schema_refuses_with_a_french_message(
    authority, member, client_for, changes, field_message
):
    client = client_for(member(authority, Role.AGENT))
    response = client.post(reverse("deliberation-new"), FORM | changes)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert field_message in page
    assert "VOTE_" not in page  # the messages speak of the form's fields
    with tenant_context(authority.pk):
        assert not Deliberation.objects.exists()


def test_a_number_already_used_in_the_authority_is_refused(authority, member, client_for, deliberation):
    client = client_for(member(authority, Role.AGENT))
    response = client.post(reverse("deliberation-new"), FORM | {"delib_id": "2023-001"})
    assert response.status_code == 400
    assert "porte déjà ce numéro" in response.content.decode()


def test_agent_edits_publishes_unpublishes_and_deletes(authority, member, client_for, deliberation):
    client = client_for(member(authority, Role.AGENT))
    response = client.post(
        reverse("deliberation-edit", args=[deliberation.pk]),
        FORM | {"delib_id": "2023-001", "objet": "Subvention au club de rugby"},
    )
    assert response.status_code == 302
    client.post(reverse("deliberation-publish", args=[deliberation.pk]), {"published": "1"})
    with tenant_context(authority.pk):
        edited = Deliberation.objects.get(pk=deliberation.pk)
    assert (edited.objet, edited.published) == ("Subvention au club de rugby", True)
    public = client.get(reverse("public-deliberation", args=[authority.slug, deliberation.pk]))
    assert public.status_code == 200
    client.post(reverse("deliberation-publish", args=[deliberation.pk]), {"published": "0"})
    assert client.get(reverse("public-deliberation", args=[authority.slug, deliberation.pk])).status_code == 404
    response = client.post(reverse("deliberation-delete", args=[deliberation.pk]))
    assert response.status_code == 302
    with tenant_context(authority.pk):
        assert not Deliberation.objects.filter(pk=deliberation.pk).exists()


def test_choosing_the_matiere_in_the_form_confirms_it_and_clears_suggestions(authority, member, client_for):
    pending = add(authority, delib_id="2023-011", matiere_code="")
    with tenant_context(authority.pk):
        Deliberation.objects.filter(pk=pending.pk).update(
            matiere_suggestions=[{"code": "7.5", "label": "Subventions", "level": 2, "score": 0.4}]
        )
    client = client_for(member(authority, Role.AGENT))
    response = client.post(reverse("deliberation-edit", args=[pending.pk]), FORM | {"delib_id": "2023-011"})
    assert response.status_code == 302
    with tenant_context(authority.pk):
        edited = Deliberation.objects.get(pk=pending.pk)
    assert (edited.matiere_code, edited.matiere_nom) == ("7.10", "Finances locales/Divers")
    assert edited.matiere_confirmed is True and edited.matiere_suggestions == []


def test_publishing_without_a_matiere_is_refused_and_says_why(authority, member, client_for):
    pending = add(authority, delib_id="2023-009", matiere_code="")
    client = client_for(member(authority, Role.AGENT))
    detail = client.get(reverse("deliberation-detail", args=[pending.pk])).content.decode()
    assert "À compléter avant publication" in detail
    response = client.post(reverse("deliberation-publish", args=[pending.pk]), {"published": "1"}, follow=True)
    assert "Publication impossible" in response.content.decode()
    with tenant_context(authority.pk):
        assert Deliberation.objects.get(pk=pending.pk).published is False


def test_a_published_deliberation_cannot_lose_its_matiere(authority, member, client_for):
    published = add(authority, delib_id="2023-010", published=True)
    client = client_for(member(authority, Role.AGENT))
    response = client.post(
        reverse("deliberation-edit", args=[published.pk]), FORM | {"delib_id": "2023-010", "matiere_code": ""}
    )
    assert response.status_code == 400
    assert "obligatoire" in response.content.decode()
    with tenant_context(authority.pk):
        assert Deliberation.objects.get(pk=published.pk).matiere_code == "7.5"


def test_other_authoritys_deliberations_are_not_found_even_published(authority, other_authority, member, client_for):
    theirs = add(other_authority, delib_id="B-1", objet="Subvention au club de football", published=True)
    client = client_for(member(authority, Role.ADMINISTRATOR))
    assert client.get(reverse("deliberation-detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("deliberation-edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("deliberation-publish", args=[theirs.pk]), {"published": "0"}).status_code == 404
    assert "B-1" not in client.get(reverse("deliberations")).content.decode()


def test_filters_by_year_and_matiere_never_confuse_7_1_with_7_10(authority, member, client_for):
    budget = add_rennes(authority, "7.1", published=False)  # Décisions budgétaires
    divers = add_rennes(authority, "7.10")
    subvention = add_rennes(authority, "7.5", delib_date=datetime.date(2021, 6, 1), pref_date=None)
    client = client_for(member(authority, Role.READER))

    def listed(**params):
        page = client.get(reverse("deliberations"), params).content.decode()
        return {d.delib_id for d in (budget, divers, subvention) if f">{d.delib_id}<" in page}

    assert listed() == {budget.delib_id, divers.delib_id, subvention.delib_id}
    assert listed(matiere="7.1") == {budget.delib_id}
    assert listed(matiere="7.10") == {divers.delib_id}
    assert listed(matiere="7") == {budget.delib_id, divers.delib_id, subvention.delib_id}
    assert listed(year="2021") == {subvention.delib_id}
    assert listed(published="0") == {budget.delib_id}
    assert listed(published="1") == {divers.delib_id, subvention.delib_id}
    page = client.get(reverse("deliberations"), {"matiere": "7"}).content.decode()
    assert "Sous-matière" in page and "7.10 Divers" in page


def test_search_finds_objet_words_without_accents_and_words_of_the_linked_act(
    authority, member, client_for, media_root, run_on_commit
):
    act = index_act(
        authority,
        "acte-2023-020.txt",
        "Le conseil approuve la convention avec le cirque Zavatta pour l'occupation du parc des expositions.",
        visibility="internal",
        run_on_commit=run_on_commit,
    )
    linked = add(authority, delib_id="2023-020", objet="Convention d'occupation temporaire", document=act)
    other = add(authority, delib_id="2023-021", objet="Élection des délégués au syndicat des écoles")
    client = client_for(member(authority, Role.READER))
    by_objet = client.get(reverse("deliberations"), {"q": "election delegues"}).content.decode()
    assert ">2023-021<" in by_objet and ">2023-020<" not in by_objet
    by_act = client.get(reverse("deliberations"), {"q": "Zavatta"}).content.decode()
    assert ">2023-020<" in by_act and ">2023-021<" not in by_act
    assert "<mark>Zavatta</mark>" in by_act
    by_number = client.get(reverse("deliberations"), {"q": "2023-021"}).content.decode()
    assert ">2023-021<" in by_number and ">2023-020<" not in by_number
    assert linked.document_id == act.pk and other.document_id is None
    assert "cirque Zavatta" in linked.text  # the act's text, copied for routing and similarity
    detail = client.get(reverse("deliberation-detail", args=[linked.pk])).content.decode()
    assert reverse("document-file", args=[act.pk]) in detail and reverse("document-detail", args=[act.pk]) in detail


def test_the_list_answers_htmx_with_the_results_only(authority, member, client_for, deliberation):
    client = client_for(member(authority, Role.READER))
    fragment = client.get(reverse("deliberations"), {"q": "football"}, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="register-results"') and "<html" not in fragment


def test_agent_export_is_scdl_all_or_published_only(authority, member, client_for, tmp_path):
    add_rennes(authority, "7.5", published=True)
    add(authority, delib_id="2023-050", matiere_code="", published=False)
    client = client_for(member(authority, Role.READER))
    everything = client.get(reverse("deliberations-export"))
    published = client.get(reverse("deliberations-export"), {"publiees": "1"})
    assert everything["Content-Type"].startswith("text/csv")
    assert "attachment" in everything["Content-Disposition"]
    assert everything.content.decode().count("\r\n") == 3 and published.content.decode().count("\r\n") == 2
    path = tmp_path / "publiees.csv"
    path.write_bytes(published.content)
    _, rows = open_scdl(path, "publiees.csv")
    assert [issue.message for checked in validate_rows(rows) for issue in checked.issues] == []


def test_sessions_group_deliberations(authority, member, client_for):
    client = client_for(member(authority, Role.AGENT))
    response = client.post(
        reverse("deliberation-sessions"), {"date": "2024-03-12", "title": "Conseil du 12 mars", "agenda": "1. Budget"}
    )
    assert response.status_code == 302
    with tenant_context(authority.pk):
        session = Session.objects.get()
    add(authority, delib_id="2024-001", objet="Vote du budget primitif", session=session)
    page = client.get(reverse("deliberation-session", args=[session.pk])).content.decode()
    assert "Conseil du 12 mars" in page and "Vote du budget primitif" in page
    assert "Conseil du 12 mars" in client.get(reverse("deliberation-sessions")).content.decode()


def test_the_main_navigation_links_to_the_register(authority, member, client_for):
    page = client_for(member(authority, Role.READER)).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("deliberations")}"' in page and "Délibérations" in page
