"""The « Délibérations similaires » page in headless Chromium: no WCAG 2.1 AA violation (axe-core), the
filters re-fetch the section without reloading the page, and « Comparer » links to the assistant's result."""

import datetime

import pytest

from apps.deliberations.models import Deliberation
from apps.deliberations.vectors import ensure_embeddings
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority, Membership
from tests.browser import axe_violations
from tests.factories import AuthorityFactory
from tests.system_tools import needs

pytestmark = [
    needs("chromium"),
    pytest.mark.django_db(transaction=True),
]


def add(authority, delib_id, objet, **fields) -> Deliberation:
    with tenant_context(authority.pk):
        deliberation = Deliberation.objects.create(
            authority=authority,
            coll_nom=authority.name,
            coll_siret="24420077000117",
            delib_id=delib_id,
            delib_date=datetime.date(2022, 3, 24),
            objet=objet,
            matiere_code="7.2",
            **fields,
        )
        ensure_embeddings([deliberation])
    return deliberation


@pytest.fixture
def source(authority):
    """Saint-Étienne Métropole's and Rennes' tax rates, as another authority's published acts."""
    authority.kind, authority.population = Authority.Kind.COMMUNE, 3_500
    authority.save()
    metro = AuthorityFactory(
        name="Saint-Étienne Métropole", slug="sem", kind=Authority.Kind.INTERCOMMUNALITE, population=404_000
    )
    rennes = AuthorityFactory(name="Ville de Rennes", slug="rennes", kind=Authority.Kind.COMMUNE, population=222_485)
    add(
        metro,
        "2022.00116",
        "Taux des taxes foncières applicables en 2022",
        published=True,
        vote_effectif=123,
        vote_reel=90,
        vote_pour=97,
        vote_contre=6,
        vote_abstention=1,
        decision="Adoptée",
    )
    add(
        rennes,
        "2022_0027",
        "DCM 2022-0027 - Finances - Fiscalité locale - Fixation des taux d'imposition des taxes pour 2022",
        published=True,
    )
    add(authority, "2021-08", "Vote des taux d'imposition 2021", published=True)
    return add(authority, "2022-05", "Fixation des taux d'imposition des taxes locales pour 2022", published=False)


@pytest.fixture
def page(signed_in, authority, member):
    return signed_in(member(authority, role=Membership.Role.AGENT))


def test_the_similar_page_filters_and_compares_without_reload(page, live_server, source, settings):
    settings.INFERENCE_URL = ""  # the comparison is only queued here
    page.goto(f"{live_server.url}/deliberations/{source.pk}/similaires/")
    assert page.locator(".similar-hit").count() == 3
    assert axe_violations(page) == []
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Type de collectivité").select_option("intercommunalite")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_function("document.querySelectorAll('.similar-hit').length === 2")
    assert "Ville de Rennes" not in page.locator("#deliberations-similaires").inner_text()
    assert page.evaluate("window.notReloaded") is True
    page.get_by_role("button", name="Comparer avec « Taux des taxes foncières applicables en 2022 »").click()
    page.wait_for_selector("text=voir le résultat")
    assert page.evaluate("window.notReloaded") is True
    assert axe_violations(page) == []
