"""API of similar deliberations and « Comparer » (page and API): role matrix, another authority's
deliberation not found, unpublished acts of others never reachable, the comparison handed to the assistant."""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.ai.models import Generation
from apps.deliberations.models import Deliberation
from apps.deliberations.vectors import embedding_text_for
from apps.documents.embeddings import get_embedder
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority, Membership
from tests.factories import AuthorityFactory

Role = Membership.Role
pytestmark = pytest.mark.django_db
CALLERS = ["anonymous", "reader", "agent", "administrator", "key_read", "key_write", "other_authority"]

# Real objets: Saint-Étienne Métropole's CSV and the Rennes extract.
SUBSIDY = (
    "Plan de relance métropolitain 2021-2023 - Attribution d'un fonds de concours à la commune de Farnay - "
    "Création de deux logements"
)
SUBSIDY_ELSEWHERE = (
    "PLAN DE RELANCE METROPOLITAIN 2021-2023 - ATTRIBUTION D’UN FONDS DE CONCOURS A LA COMMUNE DE "
    "FONTANES - AMENAGEMENT DE LA ZONE DE LOISIRS DU BOURG"
)
PARKING = (
    "DCM 2022-0207 - Aménagement et services urbains, environnement - Stationnement payant sur voirie – "
    "Évolution des tarifs"
)


@pytest.fixture(scope="module")
def embed():
    """embed(objet) -> (vector, model id), as vectors.ensure_embeddings computes it, once per module."""
    embedder, cache = get_embedder(), {}

    def vector(objet: str):
        if objet not in cache:
            cache[objet] = embedder.embed_passages([embedding_text_for(objet)])[0]
        return {"embedding": cache[objet], "embedding_model": embedder.model_id}

    return vector


def add(authority, delib_id, objet, *, published, embed, **fields) -> Deliberation:
    with tenant_context(authority.pk):
        return Deliberation.objects.create(
            authority=authority,
            coll_nom=authority.name,
            coll_siret="24420077000117",
            delib_id=delib_id,
            delib_date=datetime.date(2022, 3, 24),
            objet=objet,
            matiere_code="7.5",
            published=published,
            **embed(objet),
            **fields,
        )


@pytest.fixture
def pair(authority, embed):
    """Our deliberation and the same subject published by an intercommunalité; its unpublished twin."""
    authority.kind, authority.population = Authority.Kind.COMMUNE, 1_200
    authority.save()
    metro = AuthorityFactory(
        name="Saint-Étienne Métropole", slug="sem", kind=Authority.Kind.INTERCOMMUNALITE, population=404_000
    )
    return {
        "ours": add(authority, "2022-14", SUBSIDY, published=False, embed=embed),
        "parking": add(authority, "2022-15", PARKING, published=True, embed=embed),
        "theirs": add(
            metro, "2022.00034", SUBSIDY_ELSEWHERE, published=True, embed=embed, vote_pour=101, vote_abstention=4
        ),
        "draft": add(metro, "2022.00114", SUBSIDY, published=False, embed=embed),
        "metro": metro,
    }


@pytest.fixture
def caller(request, authority, member, api_client_for, key_client, pair):
    kind = request.param
    if kind == "anonymous":
        return APIClient()
    if kind.startswith("key_"):
        return key_client(authority, scope=kind.removeprefix("key_"))[0]
    if kind == "other_authority":
        return api_client_for(member(pair["metro"], role=Role.ADMINISTRATOR))
    return api_client_for(member(authority, role=kind))


def similar_url(deliberation, query="") -> str:
    return f"/api/v1/deliberations/{deliberation.pk}/similar/{query}"


def compare_url(deliberation) -> str:
    return f"/api/v1/deliberations/{deliberation.pk}/compare/"


@pytest.mark.parametrize(
    ("caller", "similar_status", "compare_status"),
    [
        ("anonymous", 401, 401),
        ("reader", 200, 403),
        ("agent", 200, 202),
        ("administrator", 200, 202),
        ("key_read", 200, 403),
        ("key_write", 200, 202),
        ("other_authority", 404, 404),
    ],
    indirect=["caller"],
)
def test_role_matrix(caller, pair, similar_status, compare_status):
    assert caller.get(similar_url(pair["ours"])).status_code == similar_status
    response = caller.post(compare_url(pair["ours"]), {"with": pair["theirs"].pk}, format="json")
    assert response.status_code == compare_status, response.content
    assert response["Content-Type"].startswith("application/json")


def test_similar_lists_ours_and_others_published_nearest_first(authority, member, api_client_for, pair):
    client = api_client_for(member(authority, role=Role.READER))
    body = client.get(similar_url(pair["ours"])).json()
    assert body["deliberation"] == pair["ours"].pk
    results = body["results"]
    assert [r["id"] for r in results] == [pair["theirs"].pk, pair["parking"].pk]  # the draft twin is not there
    first = results[0]
    assert first["authority"] == {
        "name": "Saint-Étienne Métropole",
        "kind": "intercommunalite",
        "population": 404_000,
        "slug": "sem",
    }
    assert first["same_authority"] is False and 0 < first["score"] <= 1
    assert first["url"] == reverse("public-deliberation", kwargs={"slug": "sem", "pk": pair["theirs"].pk})
    assert (first["vote_pour"], first["vote_abstention"]) == (101, 4)
    assert results[1]["url"] == reverse("deliberation-detail", args=[pair["parking"].pk])
    assert results[0]["score"] > results[1]["score"]


def test_similar_filters_and_scopes(authority, member, api_client_for, pair):
    client = api_client_for(member(authority, role=Role.READER))

    def found(query):
        return [r["id"] for r in client.get(similar_url(pair["ours"], query)).json()["results"]]

    assert found("?scope=own") == [pair["parking"].pk]
    assert found("?scope=others") == [pair["theirs"].pk]
    assert found("?scope=others&authority_kind=commune") == []
    assert found("?scope=others&population_min=100000&population_max=500000") == [pair["theirs"].pk]
    assert found("?scope=others&population_max=100000") == []
    assert found("?limit=1") == [pair["theirs"].pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?scope=everyone", "scope"),
        ("?authority_kind=village", "authority_kind"),
        ("?population_min=-1", "population_min"),
        ("?population_min=9000&population_max=10", "population_min"),
        ("?limit=500", "limit"),
    ],
)
def test_bad_parameters_are_refused_in_french(authority, member, api_client_for, pair, query, field):
    response = api_client_for(member(authority, role=Role.READER)).get(similar_url(pair["ours"], query))
    assert response.status_code == 400 and field in response.json()["errors"]


def test_a_foreign_draft_or_a_missing_deliberation_cannot_be_compared(authority, member, api_client_for, pair):
    client = api_client_for(member(authority, role=Role.AGENT))
    for other in (pair["draft"].pk, 999_999):
        response = client.post(compare_url(pair["ours"]), {"with": other}, format="json")
        assert response.status_code == 404 and response.json()["detail"] == "Ressource introuvable."
    same = client.post(compare_url(pair["ours"]), {"with": pair["ours"].pk}, format="json")
    assert same.status_code == 400 and "deux délibérations différentes" in same.json()["detail"]
    assert client.post(compare_url(pair["ours"]), {"with": "abc"}, format="json").status_code == 400
    with tenant_context(authority.pk):
        assert not Generation.objects.exists()


def test_compare_creates_a_generation_of_the_pair(authority, member, api_client_for, pair):
    user = member(authority, role=Role.AGENT)
    response = api_client_for(user).post(compare_url(pair["ours"]), {"with": pair["theirs"].pk}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["task"] == "compare" and body["input"] == {"deliberations": [pair["ours"].pk, pair["theirs"].pk]}
    assert body["stream_url"].endswith(f"/generations/{body['id']}/stream/")
    with tenant_context(authority.pk):
        assert Generation.objects.get(pk=body["id"]).user == user


# --- « Comparer » on the page ------------------------------------------------------------------------


def page_compare(client, pair, other_pk, **headers):
    return client.post(
        reverse("deliberation-similar-compare", args=[pair["ours"].pk]), {"with": other_pk}, headers=headers
    )


def test_compare_button_starts_the_tool_and_links_to_the_generation(authority, member, client_for, pair):
    client = client_for(member(authority, role=Role.AGENT))
    response = page_compare(client, pair, pair["theirs"].pk, **{"HX-Request": "true"})
    with tenant_context(authority.pk):
        generation = Generation.objects.get()
    assert generation.input == {"deliberations": [pair["ours"].pk, pair["theirs"].pk]}
    assert response.status_code == 200
    assert reverse("assistant-generation", args=[generation.pk]) in response.content.decode()
    # Without JavaScript, the form posts and the browser goes to the generation's page.
    response = page_compare(client, pair, pair["parking"].pk)
    with tenant_context(authority.pk):
        latest = Generation.objects.order_by("-pk").first()
    assert response.status_code == 302 and response["Location"] == reverse("assistant-generation", args=[latest.pk])


def test_compare_button_refuses_readers_drafts_of_others_and_foreign_sources(authority, member, client_for, pair):
    assert page_compare(client_for(member(authority, role=Role.READER)), pair, pair["theirs"].pk).status_code == 403
    agent = client_for(member(authority, role=Role.AGENT))
    assert page_compare(agent, pair, pair["draft"].pk).status_code == 404
    assert page_compare(agent, pair, "1 OR 1=1").status_code == 404
    foreign = client_for(member(pair["metro"], role=Role.AGENT))
    assert page_compare(foreign, pair, pair["theirs"].pk).status_code == 404  # « ours » is not theirs
    with tenant_context(authority.pk):
        assert not Generation.objects.exists()


def test_a_refused_request_is_explained_in_the_section(authority, member, client_for, pair):
    authority.settings = {"assistant": {"monthly_token_quota": 1}}
    authority.save()
    with tenant_context(authority.pk):
        Generation.objects.create(authority=authority, task=Generation.Task.SUMMARY, prompt_tokens=5)
    response = page_compare(
        client_for(member(authority, role=Role.AGENT)), pair, pair["theirs"].pk, **{"HX-Request": "true"}
    )
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
