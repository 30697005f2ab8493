"""The public register, without login: only this authority's published deliberations, ever — in the
list, the search, the pages, the acts and the SCDL export; filters by year and matière; the export is
a valid SCDL file that reads back to the same values."""

import datetime

import pytest
from django.urls import reverse

from apps.deliberations.scdl.fields import FIELDS
from apps.deliberations.scdl.reading import open_scdl
from apps.deliberations.scdl.validation import validate_rows
from apps.tenants.context import tenant_context

from .support import add, add_rennes, index_act, rennes_rows, values_from

pytestmark = pytest.mark.django_db

SECRET = "Zorglub"  # a word only internal material holds


@pytest.fixture
def register(authority, other_authority, media_root, run_on_commit):
    """Commune A: two published deliberations (one with its public act), an unpublished one and an
    internal document sharing words with them; Commune B: a published one with the same words."""
    public_act = index_act(
        authority,
        "acte-piscine.txt",
        "Le conseil municipal approuve la rénovation des bassins de la piscine et le plongeoir trampoline.",
        visibility="public",
        run_on_commit=run_on_commit,
    )
    internal_act = index_act(
        authority,
        "note-piscine.txt",
        f"Note interne {SECRET} : rénovation de la piscine, négociation avec l'entreprise.",
        visibility="internal",
        run_on_commit=run_on_commit,
    )
    published = add(
        authority,
        delib_id="2023-101",
        objet="Rénovation de la piscine municipale",
        published=True,
        document=public_act,
        vote_effectif=29,
        vote_reel=27,
        vote_pour=25,
        vote_contre=0,
        vote_abstention=2,
        decision="Adoptée",
    )
    second = add(
        authority,
        delib_id="2022-040",
        objet="Tarifs de la piscine",
        matiere_code="7.10",
        published=True,
        delib_date=datetime.date(2022, 2, 1),
    )
    draft = add(
        authority,
        delib_id="2023-102",
        objet=f"Piscine : protocole transactionnel {SECRET}",
        published=False,
        document=internal_act,
    )
    theirs = add(other_authority, delib_id="B-2023-7", objet="Rénovation de la piscine intercommunale", published=True)
    return {
        "published": published,
        "second": second,
        "draft": draft,
        "theirs": theirs,
        "public_act": public_act,
        "internal_act": internal_act,
    }


def public_url(authority, name="public-register", *args):
    return reverse(name, args=[authority.slug, *args])


def test_anyone_reads_the_published_deliberations_of_the_authority_only(client, authority, register):
    page = client.get(public_url(authority)).content.decode()
    assert "Délibérations de Commune A" in page
    assert "Rénovation de la piscine municipale" in page and "Tarifs de la piscine" in page
    assert SECRET not in page and "2023-102" not in page  # unpublished
    assert "intercommunale" not in page  # another authority's, though published
    assert "2 délibérations" in page
    assert "Se déconnecter" not in page and f'href="{reverse("deliberations")}"' not in page  # no agents' navigation


def test_search_finds_published_objets_and_public_acts_never_internal_words(client, authority, register):
    piscine = client.get(public_url(authority), {"q": "piscine"}).content.decode()
    assert "2023-101" in piscine and "2022-040" in piscine
    assert "2023-102" not in piscine and "B-2023-7" not in piscine
    by_act = client.get(public_url(authority), {"q": "plongeoir trampoline"}).content.decode()
    assert "2023-101" in by_act and "<mark>trampoline</mark>" in by_act
    secret = client.get(public_url(authority), {"q": SECRET}).content.decode()
    assert "0 délibération" in secret and "2023-102" not in secret and "<mark>" not in secret
    negotiation = client.get(public_url(authority), {"q": "négociation entreprise"}).content.decode()
    assert "0 délibération" in negotiation and "Note interne" not in negotiation


def test_unpublished_and_other_authorities_deliberations_are_not_found(client, authority, other_authority, register):
    draft, theirs = register["draft"], register["theirs"]
    assert client.get(public_url(authority, "public-deliberation", draft.pk)).status_code == 404
    assert client.get(public_url(authority, "public-deliberation-file", draft.pk)).status_code == 404
    assert client.get(public_url(authority, "public-deliberation", theirs.pk)).status_code == 404
    assert client.get(public_url(authority, "public-deliberation-file", theirs.pk)).status_code == 404
    assert client.get(public_url(other_authority, "public-deliberation", theirs.pk)).status_code == 200
    assert client.get(public_url(other_authority, "public-deliberation", register["published"].pk)).status_code == 404


def test_a_deliberation_page_shows_votes_decision_and_its_act(client, authority, register):
    published = register["published"]
    page = client.get(public_url(authority, "public-deliberation", published.pk)).content.decode()
    assert "Rénovation de la piscine municipale" in page and "Adoptée" in page
    assert "25 pour, 0 contre, 2 abstentions" in page and "27 votants sur 29" in page
    act_url = public_url(authority, "public-deliberation-file", published.pk)
    assert act_url in page
    act = client.get(act_url)
    assert act.status_code == 200
    assert b"".join(act.streaming_content) == register["public_act"].file.open("rb").read()
    assert client.get(public_url(authority, "public-deliberation-file", register["second"].pk)).status_code == 404


def test_withdrawing_a_deliberation_hides_it_and_its_act_at_once(client, authority, register):
    from apps.deliberations.register import services

    published = register["published"]
    with tenant_context(authority.pk):
        services.unpublish_deliberation(deliberation=published)
    assert client.get(public_url(authority, "public-deliberation", published.pk)).status_code == 404
    assert client.get(public_url(authority, "public-deliberation-file", published.pk)).status_code == 404
    assert "2023-101" not in client.get(public_url(authority), {"q": "trampoline"}).content.decode()
    assert "2023-101" not in client.get(public_url(authority, "public-register-export")).content.decode()


def test_a_signed_in_member_of_another_authority_sees_this_register_not_their_own(
    authority, other_authority, member, client_for, register
):
    client = client_for(member(other_authority))
    page = client.get(public_url(authority), {"q": "piscine"}).content.decode()
    assert "2023-101" in page and "B-2023-7" not in page and "2023-102" not in page
    assert client.get(public_url(authority, "public-deliberation-file", register["published"].pk)).status_code == 200
    assert client.get(public_url(authority, "public-deliberation", register["draft"].pk)).status_code == 404
    own = client.get(reverse("deliberations")).content.decode()  # their own context is back after the page
    assert "B-2023-7" in own and "2023-101" not in own


def test_unknown_or_inactive_authorities_have_no_register(client, authority):
    assert client.get(reverse("public-register", args=["n-existe-pas"])).status_code == 404
    authority.is_active = False
    authority.save()
    assert client.get(public_url(authority)).status_code == 404
    assert client.get(public_url(authority, "public-register-export")).status_code == 404


def test_filters_by_year_and_matiere_with_counts(client, authority):
    budget = add_rennes(authority, "7.1")
    divers = add_rennes(authority, "7.10")
    old = add_rennes(authority, "7.10", 1, delib_date=datetime.date(2019, 3, 4), pref_date=None)
    urbanisme = add_rennes(authority, "2.2")

    def listed(**params):
        page = client.get(public_url(authority), params).content.decode()
        return {d.delib_id for d in (budget, divers, old, urbanisme) if d.delib_id in page}

    assert listed(matiere="7.1") == {budget.delib_id}
    assert listed(matiere="7.10") == {divers.delib_id, old.delib_id}
    assert listed(matiere="7") == {budget.delib_id, divers.delib_id, old.delib_id}
    assert listed(year="2019") == {old.delib_id}
    assert listed(year="2019", matiere="2") == set()
    page = client.get(public_url(authority)).content.decode()
    assert "Finances locales</a> <small>(3)</small>" in page and "Urbanisme</a> <small>(1)</small>" in page
    assert ">2019</a> <small>(1)</small>" in page
    invalid = client.get(public_url(authority), {"matiere": "7.99"})
    assert invalid.status_code == 200 and "n&#x27;est pas une matière @ctes" in invalid.content.decode()


def test_the_export_url_is_stable_open_and_cacheable(client, authority, register):
    response = client.get(public_url(authority, "public-register-export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="deliberations-commune-a.csv"'
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]
    body = response.content.decode()
    assert "2023-101" in body and "2022-040" in body
    assert "2023-102" not in body and SECRET not in body and "B-2023-7" not in body
    again = client.get(public_url(authority, "public-register-export"), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_export_then_reimport_is_lossless(client, authority, tmp_path):
    """Real Rennes rows (with votes, budgets and dates added to cover every column) exported at the public
    URL, read back by the import's reader and validator: no error, the same values."""
    rows = rennes_rows()[:40]
    extras = [
        {
            "vote_effectif": 61,
            "vote_reel": 55,
            "vote_pour": 50,
            "vote_contre": 3,
            "vote_abstention": 2,
            "budget_annee": "2023",
            "budget_nom": "Budget principal",
            "pref_id": "035-213502388-20231204",
        },
        {"budget_annee": "2022/2023", "budget_nom": "Budget annexe, « Eau » ; assainissement"},
        {"objet": 'Objet sur deux lignes,\navec une virgule et des "guillemets"'},
    ]
    created = []
    for index, row in enumerate(rows):
        values = values_from(row) | (extras[index] if index < len(extras) else {})
        created.append(add(authority, published=True, **values))
    add(authority, delib_id="brouillon", matiere_code="", published=False)
    response = client.get(public_url(authority, "public-register-export"))
    path = tmp_path / "export.csv"
    path.write_bytes(response.content)
    _, read = open_scdl(path, "export.csv")
    checked = list(validate_rows(read))
    assert [issue.message for row in checked for issue in row.issues] == []
    exported = {row.values["delib_id"]: row.values for row in checked}
    assert set(exported) == {d.delib_id for d in created}
    for deliberation in created:
        expected = {name: getattr(deliberation, name) for name in FIELDS}
        assert exported[deliberation.delib_id] == expected, deliberation.delib_id
