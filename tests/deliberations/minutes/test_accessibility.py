"""Automated accessibility check (axe-core, WCAG 2.1 A/AA) of the extraction-from-minutes pages in headless
Chromium: the list of minutes, the review screen with its forms, and a form showing errors."""

import pytest

from apps.deliberations.minutes.extraction import start_extraction
from apps.deliberations.models import Session
from apps.documents.models import Document
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership
from tests.browser import axe_violations
from tests.system_tools import needs

from .support import COUTHENANS, stored_minutes

pytestmark = [
    needs("chromium"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_root", "offline"),
]


@pytest.fixture
def agent_page(signed_in, authority, member):
    return signed_in(member(authority, role=Membership.Role.AGENT))


def test_minutes_pages_have_no_wcag_violation(agent_page, live_server, authority):
    document = stored_minutes(authority, COUTHENANS / "CR_reunion_20210129.pdf", kind=Document.Kind.COMPTE_RENDU)
    agent_page.goto(f"{live_server.url}/deliberations/proces-verbaux/")
    assert axe_violations(agent_page) == []
    with tenant_context(authority.pk):  # the job runs in-process when this commits
        session, _ = start_extraction(authority=authority, document=document)
    with tenant_context(authority.pk):
        ids = [proposal["id"] for proposal in Session.objects.get(pk=session.pk).proposals]
    agent_page.goto(f"{live_server.url}/deliberations/seances/{session.pk}/revue/")
    assert agent_page.locator("article.minutes-proposal").count() == 4
    assert axe_violations(agent_page) == []
    agent_page.locator(f"#id_p-{ids[3]}-vote_reel").fill("3")  # 9 + 5 ≠ 3: the form comes back with its error
    agent_page.locator(f"#proposition-{ids[3]}").get_by_role("button", name="Valider").click()
    assert agent_page.locator(".field-error").count() >= 1
    assert axe_violations(agent_page) == []
    agent_page.locator(f"#proposition-{ids[0]}").get_by_role("button", name="Écarter").click()
    agent_page.wait_for_selector("text=Proposition écartée.")
    assert axe_violations(agent_page) == []
