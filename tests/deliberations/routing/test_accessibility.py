"""Accessibility (axe-core, WCAG 2.1 A/AA) of the subject-routing pages in headless Chromium, and the
htmx confirmation working in a real browser (the block is swapped, the page is not reloaded)."""

import pytest

from apps.deliberations.models import Deliberation
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership
from tests.browser import axe_violations
from tests.system_tools import needs

from .support import add_deliberation, suggestion

pytestmark = [
    needs("chromium"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def agent_page(signed_in, authority, member):
    return signed_in(member(authority, role=Membership.Role.AGENT))


@pytest.fixture
def pending(authority):
    return [
        add_deliberation(
            authority,
            "Attribution d'une subvention au club de basket",
            embed=False,
            suggestions=[suggestion("7.5", 0.82), suggestion("7.10", 0.1), suggestion("7", 0.95, 1)],
        ),
        add_deliberation(
            authority,
            "Acquisition d'une parcelle rue des Lilas",
            embed=False,
            suggestions=[suggestion("3.1", 0.55), suggestion("3", 0.7, 1)],
        ),
    ]


def test_the_classement_page_has_no_wcag_violation_and_confirms_without_reload(
    agent_page, live_server, authority, pending
):
    agent_page.goto(f"{live_server.url}/deliberations/classement/")
    assert axe_violations(agent_page) == []
    agent_page.evaluate("window.notReloaded = true")
    agent_page.get_by_role("button", name="Accepter 7.5 Subventions — 82 %").click()
    agent_page.wait_for_selector("text=Matière confirmée : 7.5 Finances locales/Subventions")
    assert agent_page.evaluate("window.notReloaded") is True
    assert axe_violations(agent_page) == []
    with tenant_context(authority.pk):
        assert Deliberation.objects.get(pk=pending[0].pk).matiere_code == "7.5"


def test_the_matiere_and_trial_pages_have_no_wcag_violation(agent_page, live_server, pending):
    agent_page.goto(f"{live_server.url}/deliberations/{pending[1].pk}/matiere/")
    assert axe_violations(agent_page) == []
    agent_page.goto(f"{live_server.url}/deliberations/classement/essai/")
    agent_page.get_by_label("Objet de la délibération").fill("Marchés publics")
    agent_page.get_by_role("button", name="Suggérer une matière").click()
    agent_page.wait_for_selector("text=Matières suggérées pour cet objet", timeout=60_000)
    assert axe_violations(agent_page) == []
