"""Automated accessibility check (axe-core, WCAG 2.1 A/AA) of the extraction-from-minutes pages in headless
Chromium: the list of minutes, the review screen with its forms, and a form showing errors."""
# ruff: noqa: F811 - fixtures imported from other test modules are requested by name

import pytest

from apps.deliberations import minutes
from apps.documents.models import Document
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership
from tests.system_tools import needs
from tests.test_accessibility import axe_violations, browser  # noqa: F401

from .test_minutes_support import COUTHENANS, media_root, no_matiere_suggestions, offline, stored_minutes  # noqa: F401

pytestmark = [
    needs("chromium"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_root", "offline"),
]


@pytest.fixture
def agent_page(browser, live_server, authority, member):
    user = member(authority, role=Membership.Role.AGENT)
    page = browser.new_page()
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    yield page
    page.close()


def test_minutes_pages_have_no_wcag_violation(agent_page, live_server, authority):
    document = stored_minutes(authority, COUTHENANS / "CR_reunion_20210129.pdf", kind=Document.Kind.COMPTE_RENDU)
    agent_page.goto(f"{live_server.url}/deliberations/proces-verbaux/")
    assert axe_violations(agent_page) == []
    with tenant_context(authority.pk):  # the job runs in-process when this commits
        session, _ = minutes.start_extraction(authority=authority, document=document)
    agent_page.goto(f"{live_server.url}/deliberations/seances/{session.pk}/revue/")
    assert agent_page.locator("article.minutes-proposal").count() == 4
    assert axe_violations(agent_page) == []
    agent_page.locator("#id_p3-vote_reel").fill("3")  # 9 + 5 ≠ 3: the form comes back with its error
    agent_page.locator("#proposition-3").get_by_role("button", name="Valider").click()
    assert agent_page.locator(".field-error").count() >= 1
    assert axe_violations(agent_page) == []
    agent_page.locator("#proposition-0").get_by_role("button", name="Écarter").click()
    agent_page.wait_for_selector("text=Proposition écartée.")
    assert axe_violations(agent_page) == []
