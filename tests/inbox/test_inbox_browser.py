"""The whole round, in Chromium with a real Celery worker: a citizen writes through the public form (the
ALTCHA widget solves its proof of work in the browser); the agent asks for a draft, which streams into the
reply editor with its cited sources; she edits, checks the AI share and validates; the e-mail leaves with the
reply, the AI label and the rating link; the citizen rates; the dashboard shows it. axe finds no WCAG A/AA
violation on any inbox page, and the public pages do not scroll sideways at 390 px."""

import re
import time

import pytest

from apps.inbox.models import Message, Reply
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership
from config.celery import app as celery_app
from tests.assistant.support import CANTINE, index_texts
from tests.browser import axe_violations
from tests.celery_worker import celery_worker
from tests.fake_inference import FakeInference
from tests.system_tools import needs

pytestmark = [needs("chromium"), pytest.mark.worker, pytest.mark.django_db(transaction=True)]
DRAFT = (
    "Madame, Monsieur,\n\nLe prix du repas à la cantine est de 3,20 euros pour les enfants domiciliés dans la "
    "commune [1]. Les inscriptions se font auprès du service scolaire.\n\n"
    "Je vous prie d'agréer, Madame, Monsieur, mes salutations distinguées.\n\nLe secrétariat de mairie"
)


@pytest.fixture(scope="module")
def shared_media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def media_root(settings, shared_media):
    settings.MEDIA_ROOT = shared_media


@pytest.fixture(scope="module")
def fake_server():
    # Slow enough that the draft visibly streams: about 2 s for the whole reply.
    with FakeInference(answer=DRAFT, tokens_per_second=30) as fake:
        yield fake


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory, fake_server, shared_media):
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    log.touch()
    env = {"INFERENCE_URL": fake_server.url, "MEDIA_ROOT": str(shared_media), "ALTCHA_MAX_NUMBER": "5000"}
    with django_db_blocker.unblock(), celery_worker(log, **env):
        celery_app.conf.task_always_eager = False
        yield log
    celery_app.conf.task_always_eager = True


def audited(page, what: str):
    assert axe_violations(page) == [], what


def no_sideways_scroll(page, what: str):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (what, width)


def wait_until(check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    pytest.fail("timed out")


def test_a_citizen_message_answered_with_a_streamed_draft_validated_and_rated(
    worker, browser, live_server, signed_in, authority, member, fake_server, settings, run_on_commit
):
    settings.INFERENCE_URL = fake_server.url  # this process renders the pages: generative mode
    settings.ALTCHA_MAX_NUMBER = 5000
    index_texts(authority, {"cantine-2023.txt": CANTINE}, run_on_commit)
    wait_until(lambda: _indexed(authority), timeout=120)

    # The citizen, on a phone.
    citizen = browser.new_page(viewport={"width": 390, "height": 844})
    response = citizen.goto(f"{live_server.url}/registre/commune-a/ecrire/")
    assert response.status == 200 and citizen.get_by_role("heading", name="Écrire à Commune A").is_visible()
    audited(citizen, "public form")
    no_sideways_scroll(citizen, "public form")
    citizen.get_by_label("Vos nom et prénom").fill("Karim Benali")
    citizen.get_by_label("Votre adresse électronique").fill("karim.benali@exemple.fr")
    citizen.get_by_label("Objet").fill("Prix de la cantine")
    citizen.get_by_label("Votre message").fill("Bonjour, quel est le prix du repas à la cantine pour mon fils ?")
    citizen.get_by_label("J'accepte que la réponse soit publiée").check()
    citizen.get_by_text("Je ne suis pas un robot").click()
    citizen.locator(".altcha[data-state=verified]").wait_for(timeout=30_000)  # the browser did the work
    citizen.get_by_role("button", name="Envoyer mon message").click()
    citizen.wait_for_url(re.compile(r".*/ecrire/envoye/\?recu=.+"))
    assert citizen.get_by_role("heading", name="Votre message est bien arrivé").is_visible()
    audited(citizen, "receipt")
    with tenant_context(authority.pk):
        message = Message.objects.get()

    # The agent, on a laptop.
    agent = signed_in(member(authority, Membership.Role.AGENT))
    agent.set_viewport_size({"width": 1366, "height": 900})
    agent.goto(f"{live_server.url}/messagerie/")
    assert agent.get_by_role("link", name="Prix de la cantine").is_visible()
    audited(agent, "inbox")
    agent.get_by_role("link", name="Prix de la cantine").click()
    assert agent.get_by_role("heading", name="Prix de la cantine", level=1).is_visible()
    audited(agent, "message")
    agent.get_by_role("button", name="Proposer une réponse").click()
    editor = agent.get_by_label("Texte envoyé à l'habitant")
    # Streaming: the editor fills while the draft is still being written.
    agent.wait_for_function("document.getElementById('id_text').value.length > 0", timeout=30_000)
    assert agent.locator(".generation.streaming").count() == 1
    agent.locator("article.draft").wait_for(timeout=60_000)
    assert "3,20 euros" in editor.input_value()
    assert agent.locator("a.citation").first.is_visible()  # the draft's [1] links to its source
    assert agent.get_by_text("cantine-2023", exact=False).first.is_visible()
    audited(agent, "message with draft")

    editor.fill(editor.input_value().replace("Les inscriptions se font", "Vous pouvez inscrire votre fils"))
    agent.get_by_role("button", name="Vérifier avant l'envoi").click()
    assert agent.get_by_role("heading", name="Vérifier la réponse avant l'envoi").is_visible()
    label = agent.locator(".ai-label").inner_text()
    share = int(re.search(r"à (\d+) %", label).group(1))
    assert 50 <= share < 100
    audited(agent, "check")
    agent.get_by_role("button", name="Valider et envoyer").click()
    agent.wait_for_url(re.compile(r".*/messagerie/\d+/.*"))
    assert agent.get_by_text("Réponse validée et envoyée").is_visible()

    with tenant_context(authority.pk):
        reply = wait_until(lambda: Reply.objects.filter(message=message, emailed_at__isnull=False).first())
    assert reply.ai_share == share
    email = wait_until(lambda: "Re : Prix de la cantine" in worker.read_text() and worker.read_text())
    assert "Vous pouvez inscrire votre fils" in email
    assert f"facilitée par l'IA à {share} %" in email
    link = re.search(r"http://\S+?(/registre/commune-a/avis/\S+/)", email).group(1)

    citizen.goto(f"{live_server.url}{link}")
    assert citizen.get_by_role("heading", name="Votre avis sur notre réponse").is_visible()
    audited(citizen, "rating")
    no_sideways_scroll(citizen, "rating")
    citizen.get_by_label("5", exact=True).check()
    citizen.get_by_role("button", name="Envoyer mon avis").click()
    assert citizen.get_by_text("Votre avis est enregistré").is_visible()
    citizen.goto(f"{live_server.url}/registre/commune-a/reponses/")
    assert citizen.get_by_text("Vous pouvez inscrire votre fils").is_visible()
    audited(citizen, "published replies")
    no_sideways_scroll(citizen, "published replies")

    agent.goto(f"{live_server.url}/messagerie/tableau-de-bord/")
    assert agent.get_by_role("heading", name="Réponses aux habitants : délais et satisfaction").is_visible()
    assert "100 % (IC 95 %" in agent.locator("table").first.inner_text()
    audited(agent, "dashboard")
    citizen.close()


def _indexed(authority):
    from apps.documents.models import Document

    with tenant_context(authority.pk):
        return Document.objects.filter(state=Document.State.INDEXED).exists()


def test_settings_page_has_no_wcag_violation(signed_in, live_server, authority, member):
    page = signed_in(member(authority, Membership.Role.ADMINISTRATOR))
    response = page.goto(f"{live_server.url}/messagerie/reglages/")
    assert response.status == 200 and page.get_by_role("heading", name="Réglages de la messagerie").is_visible()
    audited(page, "settings")
