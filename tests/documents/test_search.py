"""Hybrid search: right passages first, highlighted, filtered, and never another authority's."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.models import Document
from apps.documents.search import SearchFilters, search
from apps.documents.services import add_uploads
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import AVRANCHES, COUTHENANS, excerpt, upload

pytestmark = pytest.mark.django_db

SECRET_B = "Le conseil de la commune B attribue une subvention exceptionnelle à l'association Zorglub Pétanque."


def index(authority, files, run_on_commit, **fields):
    with run_on_commit(), tenant_context(authority.pk):
        outcomes = add_uploads(authority=authority, files=files, **fields)
    assert all(not o.error for o in outcomes), outcomes
    with tenant_context(authority.pk):
        assert set(Document.objects.values_list("state", flat=True)) == {"indexed"}


@pytest.fixture
def corpora(authority, other_authority, run_on_commit):
    index(
        authority,
        [excerpt(AVRANCHES / "avranches_CM04.07.2017_-_PV.txt"), excerpt(AVRANCHES / "avranches_CM15.12.14_-_PV.txt")],
        run_on_commit,
        kind=Document.Kind.PROCES_VERBAL,
    )
    index(other_authority, [SimpleUploadedFile("b.txt", SECRET_B.encode())], run_on_commit)


def hits(authority, query, **kwargs):
    with tenant_context(authority.pk):
        return search(authority_id=authority.pk, query=query, **kwargs)


@pytest.mark.parametrize("mode", ["hybrid", "fulltext", "vector"])
def test_authority_a_never_sees_b_chunks_whatever_the_mode(corpora, authority, other_authority, mode):
    results = hits(authority, "subvention association Zorglub pétanque", mode=mode)
    assert all("Zorglub" not in h.text for h in results.hits)
    assert {h.document_id for h in results.hits} <= set(tenant_context_ids(authority))
    counts = sum(n for values in results.facets.values() for _, _, n in values)
    assert counts <= 2 * 3  # facets count A's two documents only
    b_results = hits(other_authority, "Zorglub", mode=mode)
    assert b_results.hits and "Zorglub" in b_results.hits[0].text


def tenant_context_ids(authority):
    with tenant_context(authority.pk):
        return list(Document.objects.values_list("pk", flat=True))


def test_search_api_of_a_is_scoped_to_a_including_facets(
    corpora, authority, other_authority, member, api_client_for, key_client
):
    client = api_client_for(member(authority, role=Membership.Role.READER))
    body = client.get("/api/v1/search/", {"q": "Zorglub pétanque"}).json()
    assert all("Zorglub" not in h["snippet"] for h in body["hits"])
    assert sum(f["count"] for f in body["facets"]["kind"]) <= 2
    b_key, _ = key_client(other_authority)
    b_body = b_key.get("/api/v1/search/", {"q": "Zorglub"}).json()
    assert "Zorglub" in b_body["hits"][0]["snippet"]
    assert b_body["hits"][0]["document_id"] not in tenant_context_ids(authority)


def test_snippets_escape_html_and_mark_the_words(authority, run_on_commit):
    index(
        authority,
        [
            SimpleUploadedFile(
                "x.txt",
                "<script>alert(1)</script> La cantine scolaire coûte < 3 € & "
                "le goûter <img src=x onerror=alert(1)> 1 €.".encode(),
            )
        ],
        run_on_commit,
    )
    hit = hits(authority, "cantine scolaire goûter").hits[0]
    assert "<mark>cantine</mark>" in hit.snippet and "&lt; 3 € &amp;" in hit.snippet
    assert "<script" not in hit.snippet and "<img" not in hit.snippet
    assert set(re.findall(r"<(/?\w+)", hit.snippet)) == {"mark", "/mark"}


def test_filters_by_kind_date_and_collection(authority, run_on_commit):
    from datetime import date

    index(
        authority,
        [SimpleUploadedFile("a.txt", b"Tarifs de la piscine municipale pour 2021.")],
        run_on_commit,
        kind=Document.Kind.DELIBERATION,
        date=date(2021, 3, 1),
    )
    index(
        authority,
        [SimpleUploadedFile("b.txt", b"Tarifs de la piscine municipale pour 2023.")],
        run_on_commit,
        kind=Document.Kind.NOTE,
        date=date(2023, 3, 1),
    )
    assert {h.document_title for h in hits(authority, "tarifs piscine").hits} == {"a", "b"}
    by_kind = hits(authority, "tarifs piscine", filters=SearchFilters(kinds=["deliberation"])).hits
    assert {h.document_title for h in by_kind} == {"a"}
    by_date = hits(authority, "tarifs piscine", filters=SearchFilters(date_from=date(2022, 1, 1))).hits
    assert {h.document_title for h in by_date} == {"b"}
    facets = dict(hits(authority, "tarifs piscine").facets)
    assert sorted((v, n) for v, _, n in facets["year"]) == [("2021", 1), ("2023", 1)]


def test_search_page_links_to_the_page_of_the_document(corpora, authority, member, client_for):
    client = client_for(member(authority, role=Membership.Role.READER))
    page = client.get("/recherche/", {"q": "élection des délégués suppléants"}).content.decode()
    assert re.search(r'href="/documents/\d+/#page-\d+"', page)
    assert client.get("/recherche/", {"q": "   "}).status_code == 200


def test_empty_or_meaningless_query_returns_nothing_without_error(corpora, authority):
    assert hits(authority, "").hits == []
    assert hits(authority, "?!").hits == []


def test_couthenans_pdfs_topic_search_finds_the_right_page(authority, run_on_commit):
    """Acceptance: the real PDFs, indexed with page numbers; a topic they discuss comes back first or second."""
    index(
        authority,
        [upload(path) for path in sorted(COUTHENANS.glob("*.pdf"))],
        run_on_commit,
        kind=Document.Kind.COMPTE_RENDU,
    )
    with tenant_context(authority.pk):
        assert Document.objects.count() == len(list(COUTHENANS.glob("*.pdf")))
    # Each case: a question, the document it must come from, and a phrase on the expected page.
    for question, filename, phrase in COUTHENANS_CASES:
        results = hits(authority, question).hits[:2]
        assert any(
            h.document_title == filename and phrase.lower() in _page_text(authority, h).lower() for h in results
        ), (question, [(h.document_title, h.page) for h in results])


def _page_text(authority, hit):
    with tenant_context(authority.pk):
        pages = Document.objects.get(pk=hit.document_id).pages
    return next(p["text"] for p in pages if p["number"] == hit.page)


COUTHENANS_CASES = [
    ("Y aura-t-il des coupes de bois par l'ONF en 2023 ?", "CR conseil municipal 07 10 2022", "coupe ONF"),
    ("renouvellement du contrat de gaz avec GRDF", "CR reunion 20210409", "GRDF"),
    ("motion contre la hausse des frais de garderie", "CR reunion 20210917", "frais de garderie"),
    ("qualité de l'eau potable et rendement du réseau", "CR reunion 20220121", "rendement"),
    ("prix de location de la salle et coût de l'énergie", "CR reunion 20220624", "tarifs de location de la salle"),
    ("installer une boîte à livres", "CR reunion 20210917", "boîte à livres"),
    (
        "qui est responsable logistique du plan communal de sauvegarde",
        "CR conseil municipal 28 10 2022",
        "Responsable Logistique",
    ),
]
