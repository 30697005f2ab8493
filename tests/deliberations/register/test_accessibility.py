"""axe-core (WCAG 2.1 A/AA) on the register's pages in headless Chromium: the public register and a
public deliberation (anonymous), the agents' list, page, form with errors and sessions. Uses the
browser of tests/browser.py."""

import datetime

import pytest

from apps.tenants.models import Membership
from tests.browser import axe_violations
from tests.system_tools import needs

from .support import add, add_rennes, index_act

pytestmark = [
    needs("chromium"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def register(authority, other_authority, media_root, run_on_commit):
    act = index_act(
        authority,
        "acte-2023-101.txt",
        "Le conseil approuve la rénovation de la piscine.",
        visibility="public",
        run_on_commit=run_on_commit,
    )
    published = add(
        authority,
        delib_id="2023-101",
        objet="Rénovation de la piscine municipale",
        published=True,
        document=act,
        vote_effectif=29,
        vote_reel=27,
        vote_pour=25,
        vote_contre=0,
        vote_abstention=2,
        decision="Adoptée",
        budget_annee="2023",
        budget_nom="Budget principal",
    )
    add_rennes(authority, "7.10")
    add_rennes(authority, "7.1", delib_date=datetime.date(2022, 1, 20), pref_date=None)
    add(authority, delib_id="2023-102", objet="Projet en attente de classement", matiere_code="", published=False)
    add(other_authority, delib_id="B-1", objet="Rénovation de la piscine intercommunale", published=True)
    return published


PUBLIC_QUERIES = ["", "?q=piscine", "?matiere=7", "?q=introuvable+zzz", "?year=abc"]
AGENT_PATHS = [
    "/deliberations/",
    "/deliberations/?q=piscine",
    "/deliberations/?matiere=7.10",
    "/deliberations/nouvelle/",
    "/deliberations/seances/",
]


@pytest.fixture
def signed_in_page(signed_in, authority, member):
    return signed_in(member(authority, role=Membership.Role.ADMINISTRATOR))


def test_public_register_pages_have_no_wcag_violation(browser, live_server, authority, register):
    page = browser.new_page()
    paths = [f"/registre/{authority.slug}/{query}" for query in PUBLIC_QUERIES]
    for path in [*paths, f"/registre/{authority.slug}/deliberations/{register.pk}/"]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert axe_violations(page) == [], path
    page.close()


def test_agent_register_pages_have_no_wcag_violation(signed_in_page, live_server, register):
    for path in AGENT_PATHS:
        signed_in_page.goto(f"{live_server.url}{path}")
        assert axe_violations(signed_in_page) == [], path
    signed_in_page.goto(f"{live_server.url}/deliberations/{register.pk}/")
    assert signed_in_page.get_by_role("heading", level=1).inner_text() == "Rénovation de la piscine municipale"
    # The « similar deliberations » section arrives by htmx: check the page once it is in.
    signed_in_page.wait_for_selector("#deliberations-similaires form", timeout=30_000)
    assert axe_violations(signed_in_page) == []
    signed_in_page.goto(f"{live_server.url}/deliberations/nouvelle/")
    signed_in_page.get_by_label("Numéro de la délibération").fill("2024-001")
    signed_in_page.get_by_label("Membres en exercice").fill("10")
    signed_in_page.get_by_role("button", name="Enregistrer").click()
    assert signed_in_page.locator(".field-error").count() >= 1
    assert axe_violations(signed_in_page) == []


def test_search_filters_the_agent_list_without_reloading_the_page(signed_in_page, live_server, register):
    signed_in_page.goto(f"{live_server.url}/deliberations/")
    signed_in_page.evaluate("window.notReloaded = true")
    signed_in_page.get_by_label("Rechercher dans les objets et le texte des actes").fill("piscine")
    signed_in_page.get_by_role("button", name="Rechercher").click()
    signed_in_page.wait_for_selector("text=1 délibération pour « piscine »", timeout=10_000)
    assert signed_in_page.evaluate("window.notReloaded") is True
    assert "q=piscine" in signed_in_page.url
