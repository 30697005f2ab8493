"""Similar deliberations: the nearest acts of the authority (any state) and other authorities' published
ones only, ranked by embedding, filtered by kind, population and matière; the htmx section and page.

Three authorities with real objets (Rennes JSON extract, Saint-Étienne Métropole CSV): a small commune
(the one asking), a large commune and an intercommunalité. Embeddings are computed once per module.
"""

import csv
import datetime
import json

import numpy as np
import pytest
from django.db import connection
from django.urls import reverse

from apps.deliberations.models import Deliberation
from apps.deliberations.similar.selectors import SOURCE, _conditions, similar_deliberations, source_embedding
from apps.deliberations.vectors import embedding_text_for
from apps.documents.embeddings import get_embedder
from apps.documents.vector_query import nearest
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority, Membership
from tests.factories import AuthorityFactory
from tests.paths import SHARED_DATA

Role = Membership.Role
SCDL = SHARED_DATA / "scdl"
pytestmark = pytest.mark.django_db


def _rennes() -> dict[str, dict]:
    rows = json.loads((SCDL / "deliberations-ville-de-rennes-extrait-152.json").read_text(encoding="utf-8"))
    return {row["delib_id"]: row for row in rows}


def _saint_etienne(prefix: str) -> dict:
    with (SCDL / "deliberations-saint-etienne-metropole-2022.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            objet = " ".join(row["DELIB_OBJET"].split())
            if objet.upper().startswith(prefix.upper()):
                return {
                    "objet": objet,
                    "delib_id": row["DELIB_ID"],
                    "delib_date": row["DELIB_DATE"],
                    "vote_pour": int(row["VOTE_POUR"]),
                    "vote_contre": int(row["VOTE_CONTRE"]),
                    "vote_abstention": int(row["VOTE_ABSTENTION"]),
                }
    raise LookupError(prefix)


RENNES = _rennes()
BREUIL = _saint_etienne("TRAVAUX DE DISSIMULATION DES RESEAUX SECS, RUE DU BREUIL")
TRIOLET = _saint_etienne("Travaux de dissimulation des reseaux secs, rue du triolet")
LOUBET = _saint_etienne("Travaux de dissimulation de réseaux rue Loubet")
CHATELARD = _saint_etienne("Travaux de dissimulation de réseaux impasse Chatelard")
TAXES_FONCIERES = _saint_etienne("Taux des taxes foncières applicables en 2022")
CFE = _saint_etienne("Taux de la cotisation foncière des entreprises")
PLU_ROCHE = _saint_etienne("PLAN LOCAL D’URBANISME (PLU) DE ROCHE-LA-MOLIERE - APPROBATION")
PLU_GENILAC = _saint_etienne("Plan local d'urbanisme (PLU) de la commune de Genilac")


@pytest.fixture(scope="module")
def embed():
    """embed(objet) -> (vector, model id), computed as vectors.ensure_embeddings does, once per module."""
    embedder, cache = get_embedder(), {}

    def vector(objet: str):
        text = embedding_text_for(objet)
        if text not in cache:
            cache[text] = embedder.embed_passages([text])[0]
        return cache[text], embedder.model_id

    return vector


def add(authority, row: dict, *, matiere: str, published: bool, embed=None, **fields) -> Deliberation:
    values = {
        "coll_nom": authority.name,
        "coll_siret": "21350238800019",
        "delib_id": row["delib_id"],
        "delib_date": datetime.date.fromisoformat(str(row["delib_date"])[:10]),
        "objet": row["objet"],
        "matiere_code": matiere,
        "published": published,
    }
    values |= {key: row[key] for key in ("vote_pour", "vote_contre", "vote_abstention") if key in row}
    if embed:
        values["embedding"], values["embedding_model"] = embed(row["objet"])
    with tenant_context(authority.pk):
        return Deliberation.objects.create(authority=authority, **values | fields)


def rennes(delib_id: str) -> dict:
    row = RENNES[delib_id]
    return {"delib_id": delib_id, "delib_date": row["delib_date"], "objet": row["delib_objet"]}


@pytest.fixture
def world(embed):
    """villars asks; rennes (large commune) and sem (intercommunalité) publish some acts, not all."""
    villars = AuthorityFactory(name="Commune de Villars", slug="villars", kind=Authority.Kind.COMMUNE, population=8_000)
    big = AuthorityFactory(name="Ville de Rennes", slug="rennes", kind=Authority.Kind.COMMUNE, population=222_485)
    sem = AuthorityFactory(
        name="Saint-Étienne Métropole", slug="sem", kind=Authority.Kind.INTERCOMMUNALITE, population=404_000
    )
    w = {"villars": villars, "rennes": big, "sem": sem}
    # The source has no embedding yet: it is computed on demand.
    w["source"] = add(villars, BREUIL, matiere="7.5", published=True, decision="Adoptée")
    w["own_near"] = add(villars, LOUBET | {"delib_id": "V-2022-12"}, matiere="7.5", published=False, embed=embed)
    w["own_taxes"] = add(
        villars, TAXES_FONCIERES | {"delib_id": "V-2022-03"}, matiere="7.2", published=True, embed=embed
    )
    w["own_plu"] = add(villars, PLU_GENILAC | {"delib_id": "V-2022-20"}, matiere="2.1", published=False, embed=embed)
    w["rennes_taux"] = add(big, rennes("2022_0027"), matiere="7.2", published=True, embed=embed)
    w["rennes_radios"] = add(big, rennes("2023_0447"), matiere="7.5", published=True, embed=embed)
    w["rennes_arbre"] = add(big, rennes("2022_0288"), matiere="8.8", published=True, embed=embed)
    # Near-identical to the source, but not published: must never be shown to another authority.
    w["rennes_hidden"] = add(big, BREUIL | {"delib_id": "2022_0999"}, matiere="7.5", published=False, embed=embed)
    w["sem_triolet"] = add(sem, TRIOLET | {"delib_id": "2022.00148-T"}, matiere="7.5", published=True, embed=embed)
    w["sem_plu"] = add(sem, PLU_ROCHE, matiere="2.1", published=True, embed=embed)
    w["sem_cfe"] = add(sem, CFE, matiere="7.2", published=True, embed=embed)
    w["sem_hidden"] = add(sem, CHATELARD, matiere="7.5", published=False, embed=embed)
    return w


def run(world, **kwargs):
    with tenant_context(world["villars"].pk):
        return similar_deliberations(deliberation=world["source"], **kwargs)


def ids(hits) -> list[int]:
    return [hit.deliberation.pk for hit in hits]


def names(world, hits) -> list[str]:
    by_pk = {row.pk: name for name, row in world.items() if isinstance(row, Deliberation)}
    return [by_pk[pk] for pk in ids(hits)]


# --- ranking and visibility ------------------------------------------------------------------------


def test_the_source_embedding_is_computed_on_demand_and_stored(world):
    assert world["source"].embedding is None
    run(world, scope="own")
    with tenant_context(world["villars"].pk):
        stored = Deliberation.objects.get(pk=world["source"].pk)
    assert stored.embedding is not None and stored.embedding_model == get_embedder().model_id


def test_own_authority_lists_any_state_and_the_near_duplicate_ranks_first(world):
    hits = run(world, scope="own")
    assert names(world, hits)[0] == "own_near"  # unpublished, yet the authority's own
    assert set(names(world, hits)) == {"own_near", "own_taxes", "own_plu"}
    assert all(hit.same_authority and hit.authority_name == "Commune de Villars" for hit in hits)


def test_other_authorities_show_published_acts_only_nearest_first(world):
    hits = run(world, scope="others")
    assert names(world, hits)[0] == "sem_triolet"
    assert set(names(world, hits)) == {
        "sem_triolet",
        "sem_plu",
        "sem_cfe",
        "rennes_taux",
        "rennes_radios",
        "rennes_arbre",
    }
    first = hits[0]
    assert (first.authority_name, first.authority_kind, first.population) == (
        "Saint-Étienne Métropole",
        "intercommunalite",
        404_000,
    )
    assert not first.same_authority


def test_an_unpublished_near_identical_act_of_another_authority_never_appears_until_published(world):
    hidden = world["rennes_hidden"]
    for scope in ("others", "all"):
        assert hidden.pk not in ids(run(world, scope=scope, limit=50))
    # Its objet is the source's own: published, it comes first. Only publication kept it out.
    with tenant_context(world["rennes"].pk):
        Deliberation.objects.filter(pk=hidden.pk).update(published=True)
    hits = run(world, scope="others")
    assert hits[0].deliberation.pk == hidden.pk and hits[0].score > 0.98


def test_the_explicit_filter_hides_unpublished_acts_even_where_row_security_would_not(world):
    """Platform staff see every row under RLS: the query itself must still keep others' drafts out."""
    with tenant_context(world["villars"].pk, platform_staff=True):
        assert Deliberation.all_tenants.filter(pk=world["rennes_hidden"].pk).exists()
        hits = similar_deliberations(deliberation=world["source"], scope="all", limit=50)
    assert {world["rennes_hidden"].pk, world["sem_hidden"].pk}.isdisjoint(ids(hits))
    assert world["own_near"].pk in ids(hits)


def test_scores_are_the_cosine_similarity_of_the_stored_vectors_in_decreasing_order(world):
    hits = run(world, scope="all", limit=50)
    with tenant_context(world["villars"].pk):
        source = np.asarray(Deliberation.objects.get(pk=world["source"].pk).embedding, dtype=np.float64)
        vectors = {
            d.pk: np.asarray(d.embedding, dtype=np.float64) for d in Deliberation.all_tenants.filter(pk__in=ids(hits))
        }
    expected = {pk: float(source @ v / (np.linalg.norm(source) * np.linalg.norm(v))) for pk, v in vectors.items()}
    assert [round(hit.score, 4) for hit in hits] == [round(expected[pk], 4) for pk in ids(hits)]
    assert ids(hits) == sorted(expected, key=lambda pk: -expected[pk])
    assert world["source"].pk not in ids(hits) and len(hits) == 9  # 3 own + 6 published elsewhere


def test_filters_on_kind_and_population_apply_to_other_authorities(world):
    communes = run(world, scope="others", authority_kind=Authority.Kind.COMMUNE)
    assert set(names(world, communes)) == {"rennes_taux", "rennes_radios", "rennes_arbre"}
    intercos = run(world, scope="others", authority_kind=Authority.Kind.INTERCOMMUNALITE)
    assert names(world, intercos)[0] == "sem_triolet" and {h.authority_kind for h in intercos} == {"intercommunalite"}
    assert {h.population for h in run(world, scope="others", population_max=300_000)} == {222_485}
    assert {h.population for h in run(world, scope="others", population_min=300_000)} == {404_000}
    assert run(world, scope="others", population_min=1, population_max=5_000) == []
    # The own authority is not filtered out by the kind of the others.
    mixed = run(world, scope="all", authority_kind=Authority.Kind.INTERCOMMUNALITE)
    assert {h.authority_name for h in mixed} == {"Commune de Villars", "Saint-Étienne Métropole"}


def test_same_matiere_keeps_the_level_one_subject(world):
    hits = run(world, scope="all", matiere_level1="7", limit=50)
    assert {h.deliberation.matiere_code.split(".")[0] for h in hits} == {"7"}
    assert {"own_plu", "sem_plu", "rennes_arbre"}.isdisjoint(names(world, hits))
    assert {"own_near", "sem_triolet", "rennes_taux"} <= set(names(world, hits))


def test_vectors_of_another_embedding_model_are_not_compared(world):
    with tenant_context(world["sem"].pk):
        Deliberation.objects.filter(pk=world["sem_triolet"].pk).update(embedding_model="autre/modele")
    assert world["sem_triolet"].pk not in ids(run(world, scope="others", limit=50))


def test_the_hnsw_iterative_scan_finds_what_the_exact_scan_finds(world):
    source = world["source"]
    with tenant_context(world["villars"].pk):
        vector = source_embedding(source)
        where, params = _conditions(
            source, scope="all", authority_kind="", population_min=None, population_max=None, matiere_level1=""
        )
        with connection.cursor() as cursor:
            search = {"query_vector": vector, "k": 4, "source": SOURCE, "alias": "d", "where": where, "params": params}
            exact = nearest(cursor, scan="exact", **search)
            indexed = nearest(cursor, scan="index", **search)
            cursor.execute("SHOW hnsw.ef_search")  # the scan's settings did not outlive it
            assert cursor.fetchone()[0] == "40"
    assert [pk for pk, _ in indexed] == [pk for pk, _ in exact]
    assert exact[0][0] in (world["sem_triolet"].pk, world["own_near"].pk)


def test_a_source_of_another_authority_is_refused(world):
    with tenant_context(world["villars"].pk), pytest.raises(ValueError):
        similar_deliberations(deliberation=world["sem_triolet"])


# --- the section and the page ------------------------------------------------------------------------


def section(client, world, query="", **headers):
    url = reverse("deliberation-similar", args=[world["source"].pk]) + query
    return client.get(url, headers={"HX-Request": "true"} | headers)


def test_the_section_lists_both_groups_with_links_and_hides_unpublished_acts(world, member, client_for):
    client = client_for(member(world["villars"], Role.READER))
    response = section(client, world)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 id="titre-similaires">Délibérations similaires</h2>' in html
    assert "Dans notre collectivité" in html and "Dans d'autres collectivités (actes publiés)" in html
    assert reverse("deliberation-detail", args=[world["own_near"].pk]) in html
    triolet = world["sem_triolet"]
    assert reverse("public-deliberation", kwargs={"slug": "sem", "pk": triolet.pk}) in html
    assert "Saint-Étienne Métropole (Intercommunalité, 404\u202f000 hab.)" in html
    assert "% de similarité" in html and "104 pour, 0 contre, 0 abstention" in html
    assert CHATELARD["objet"][:40] not in html  # sem's unpublished act
    assert html.count(BREUIL["objet"][:40]) == 0  # neither the source itself nor rennes' hidden copy
    assert "Comparer" not in html  # readers cannot run the assistant's writing tools
    assert "<html" not in html  # a partial for htmx


def test_agents_get_a_compare_button_per_item(world, member, client_for):
    html = section(client_for(member(world["villars"], Role.AGENT)), world).content.decode()
    form_action = reverse("deliberation-similar-compare", args=[world["source"].pk])
    assert html.count(f'hx-post="{form_action}"') == 9
    assert f'name="with" value="{world["sem_triolet"].pk}"' in html


def test_the_filter_form_refetches_with_the_criteria(world, member, client_for):
    client = client_for(member(world["villars"], Role.READER))
    html = section(client, world, "?authority_kind=commune&population_min=100000&same_matiere=on").content.decode()
    assert reverse("public-deliberation", kwargs={"slug": "rennes", "pk": world["rennes_taux"].pk}) in html
    assert "/registre/sem/" not in html
    assert world["rennes_arbre"].objet[:30] not in html  # matière 8.8, not 7
    assert '<option value="commune" selected>' in html


def test_an_inconsistent_population_range_is_explained(world, member, client_for):
    client = client_for(member(world["villars"], Role.READER))
    response = section(client, world, "?population_min=50000&population_max=100")
    assert response.status_code == 200  # htmx swaps only successful responses
    assert "La population minimale dépasse la population maximale." in response.content.decode()
    page = client.get(reverse("deliberation-similar", args=[world["source"].pk]) + "?population_min=x")
    assert page.status_code == 400 and "Saisissez un nombre entier." in page.content.decode()


def test_the_full_page_has_a_title_and_the_section(world, member, client_for):
    response = client_for(member(world["villars"], Role.READER)).get(
        reverse("deliberation-similar", args=[world["source"].pk])
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>Délibérations proches de" in html
    assert 'id="deliberations-similaires"' in html


def test_the_section_of_another_authoritys_deliberation_is_not_found(world, member, client_for):
    client = client_for(member(world["villars"], Role.READER))
    for other in (world["sem_triolet"], world["rennes_hidden"]):  # published or not: not ours
        assert client.get(reverse("deliberation-similar", args=[other.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(world, client):
    response = client.get(reverse("deliberation-similar", args=[world["source"].pk]))
    assert response.status_code == 302 and "/connexion/" in response["Location"]


@pytest.fixture
def embedder_down(settings):
    """The embeddings server configured but refusing connections (nothing listens on loopback port 9)."""
    settings.EMBEDDINGS_URL, settings.EMBEDDINGS_TIMEOUT_SECONDS = "http://127.0.0.1:9", 2
    get_embedder.cache_clear()
    yield
    get_embedder.cache_clear()


# Transactional: as in production, the request is not nested in the test's transaction, which a 5xx
# response marks for rollback (the tenant middleware's rule).
@pytest.mark.django_db(transaction=True)
def test_when_the_embedder_is_down_the_section_says_so_and_the_api_answers_503(
    world, member, client_for, api_client_for, embedder_down
):
    reader = member(world["villars"], Role.READER)
    response = section(client_for(reader), world)
    html = response.content.decode()
    assert response.status_code == 200 and "momentanément indisponible" in html
    assert "Dans notre collectivité" in html  # the page still works, with empty lists
    api = api_client_for(reader).get(f"/api/v1/deliberations/{world['source'].pk}/similar/")
    assert api.status_code == 503 and "momentanément indisponible" in api.json()["detail"]
