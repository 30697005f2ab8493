"""Automated accessibility check (axe-core, WCAG 2.1 A/AA, the basis of RGAA 4.1) of every page of
the web shell, in headless Chromium, plus keyboard access to the skip link."""

import pytest

from apps.tenants.models import Membership

from .browser import axe_violations
from .factories import JobFactory
from .system_tools import needs

pytestmark = [
    needs("chromium"),  # skipped without Chromium, failed under CI=true
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def signed_in_page(signed_in, authority, member):
    user = member(authority, role=Membership.Role.ADMINISTRATOR)
    JobFactory(authority=authority, state="running", progress=40, message="Étape 2 sur 5")
    JobFactory(authority=authority, state="failed", error="Le serveur d'inférence ne répond pas.")
    index_sample_document(authority)
    return signed_in(user)


def index_sample_document(authority):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.documents.services import add_uploads
    from apps.tenants.context import tenant_context

    text = "1. Tarifs de la cantine\nLe conseil fixe le tarif du repas à 3,20 €.\nPour : 15 Contre : 0\n"
    with tenant_context(authority.pk):  # the job runs in-process when this commits
        add_uploads(authority=authority, files=[SimpleUploadedFile("tarifs.txt", text.encode())])


def sample_document(authority):
    """The document index_sample_document stored for the signed-in user's authority, as indexed."""
    from apps.documents.models import Document
    from apps.tenants.context import tenant_context

    with tenant_context(authority.pk):
        return Document.objects.get(original_filename="tarifs.txt")


def test_login_and_password_reset_pages_have_no_wcag_violation(browser, live_server):
    page = browser.new_page()
    for path in ("/connexion/", "/mot-de-passe/oublie/"):
        page.goto(f"{live_server.url}{path}")
        assert axe_violations(page) == [], path
    page.close()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/travaux/",
        "/parametres/membres/",
        "/parametres/cles-api/",
        "/parametres/collectivite/",
        "/n-existe-pas/",
        "/documents/",
        "/recherche/?q=tarif+cantine",
        "/recherche/?q=introuvable+zzz",
        "/parametres/collections/",
        "/assistant/",
        "/assistant/redaction/",
        "/assistant/journal/",
    ],
)
def test_signed_in_pages_have_no_wcag_violation(signed_in_page, live_server, path):
    response = signed_in_page.goto(f"{live_server.url}{path}")
    assert response.status == (404 if path == "/n-existe-pas/" else 200), path  # axe audits the intended page
    assert axe_violations(signed_in_page) == []


def test_a_document_page_with_its_indexed_passages_has_no_wcag_violation(signed_in_page, live_server, authority):
    document = sample_document(authority)
    response = signed_in_page.goto(f"{live_server.url}/documents/{document.pk}/?passages=1")
    assert response.status == 200
    assert signed_in_page.locator("h1").inner_text() == document.title
    assert signed_in_page.locator("#titre-passages").inner_text().startswith("Passages indexés (")
    assert signed_in_page.locator("#passages article.chunk").count() >= 1  # the administrator's view of passages
    assert axe_violations(signed_in_page) == []


def test_form_errors_and_the_one_time_key_have_no_wcag_violation(signed_in_page, live_server):
    signed_in_page.goto(f"{live_server.url}/parametres/cles-api/")
    signed_in_page.get_by_role("button", name="Créer la clé").click()  # empty name: errors shown
    assert signed_in_page.locator(".field-error").count() >= 1
    assert axe_violations(signed_in_page) == []
    signed_in_page.get_by_label("Nom").fill("Site internet")
    signed_in_page.get_by_role("button", name="Créer la clé").click()
    assert signed_in_page.locator("#nouvelle-cle").inner_text().startswith("rgk_")
    assert axe_violations(signed_in_page) == []


def test_first_tab_reaches_the_skip_link_which_moves_focus_to_the_content(signed_in_page):
    signed_in_page.keyboard.press("Tab")
    focused = signed_in_page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Aller au contenu"
    signed_in_page.keyboard.press("Enter")
    assert signed_in_page.evaluate("document.activeElement.id") == "contenu"


def test_job_progress_updates_without_a_page_reload(signed_in_page, live_server, authority):
    from apps.jobs.models import Job
    from apps.tenants.context import tenant_context

    signed_in_page.goto(f"{live_server.url}/travaux/")
    signed_in_page.evaluate("window.notReloaded = true")
    with tenant_context(authority.pk):
        Job.objects.filter(state="running").update(progress=80, message="Étape 4 sur 5")
    signed_in_page.wait_for_selector("text=Étape 4 sur 5", timeout=10_000)
    assert signed_in_page.evaluate("window.notReloaded") is True
    assert signed_in_page.locator("progress[value='80']").count() == 1


def test_a_question_asked_in_the_chat_shows_its_cited_answer_without_reload(signed_in_page, live_server, settings):
    settings.INFERENCE_URL = ""  # offline mode: the answer quotes the passages
    signed_in_page.goto(f"{live_server.url}/assistant/")
    signed_in_page.evaluate("window.notReloaded = true")
    signed_in_page.get_by_label("Votre question").fill("Quel est le tarif du repas à la cantine ?")
    signed_in_page.get_by_role("button", name="Demander").click()
    signed_in_page.wait_for_selector(".generation a.citation", timeout=20_000)
    assert "3,20" in signed_in_page.locator(".generated-text").inner_text()
    assert signed_in_page.evaluate("window.notReloaded") is True
    assert signed_in_page.locator(".source-list li").count() >= 1
    assert axe_violations(signed_in_page) == []
    signed_in_page.get_by_role("button", name="Utile", exact=True).click()
    signed_in_page.wait_for_selector("text=Votre avis : utile")


def test_a_document_summary_page_has_no_wcag_violation(signed_in_page, live_server, settings):
    settings.INFERENCE_URL = ""
    signed_in_page.goto(f"{live_server.url}/documents/")
    signed_in_page.locator("#contenu a[href^='/documents/']").filter(has_text="tarifs").first.click()
    signed_in_page.get_by_role("button", name="Résumer", exact=True).click()
    signed_in_page.wait_for_selector(".generation:not(.streaming)", timeout=20_000)
    assert "L'IA générative n'est pas configurée" in signed_in_page.content()
    assert axe_violations(signed_in_page) == []
