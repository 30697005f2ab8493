"""From draft to citizen: the agent checks the reply (AI share, differences with the draft) and validates
it; only then does the e-mail leave, with the reply, the AI label and a signed link the citizen uses, once,
to rate it; a published reply appears on the authority's public page only with the citizen's consent."""

import re

import pytest
from django.core import mail

from apps.ai.models import Generation
from apps.inbox import services
from apps.inbox.models import Draft, Event, Message, Reply
from apps.tenants.context import tenant_context

from .support import CANTEEN, POTHOLE, receive, reload

pytestmark = pytest.mark.django_db
DRAFT = (
    "Madame, Monsieur,\n\nLe prix du repas à la cantine scolaire est de 3,20 euros pour un enfant domicilié "
    "dans la commune [1]. Les inscriptions se font auprès du service scolaire de la mairie.\n\n"
    "Je vous prie d'agréer, Madame, Monsieur, mes salutations distinguées.\n\nLe service scolaire"
)


@pytest.fixture
def drafted(authority, member, fake_llm, run_on_commit):
    """(agent, message, its finished draft)."""
    agent = member(authority)
    fake_llm.answer = DRAFT
    message = receive(authority, CANTEEN, consent_publication=True)
    with run_on_commit(), tenant_context(authority.pk):
        draft = services.request_draft(message=message, user=agent)
    with tenant_context(authority.pk):
        draft = Draft.objects.select_related("generation").get(pk=draft.pk)
    assert draft.generation.outcome == Generation.Outcome.DONE
    return agent, reload(message), draft


def test_the_agent_edits_checks_and_sends_and_the_citizen_rates(drafted, authority, client_for, run_on_commit, client):
    agent, message, draft = drafted
    browser = client_for(agent)
    page = browser.get(f"/messagerie/{message.pk}/").content.decode()
    assert "Brouillon n°" in page and "3,20 euros" in page

    edited = DRAFT.replace("Les inscriptions se font", "Vous pouvez inscrire votre enfant").replace(
        "Le service scolaire", "Camille Martin, service scolaire"
    )
    check = browser.post(f"/messagerie/{message.pk}/verifier/", {"text": edited, "draft": draft.pk, "publish": "on"})
    assert check.status_code == 200
    checked = check.content.decode()
    share = int(re.search(r"facilitée par l(?:'|&#x27;)IA à (\d+) %", checked).group(1))
    assert 50 <= share < 100
    assert "<del>" in checked and "<ins>" in checked  # the differences with the draft
    assert reload(message).state == Message.State.DRAFTED  # checking sends nothing
    assert mail.outbox == []

    with run_on_commit():
        sent = browser.post(
            f"/messagerie/{message.pk}/envoyer/",
            {"text": edited, "draft": draft.pk, "publish": "on", "validated": "1"},
        )
    assert sent.status_code == 302
    with tenant_context(authority.pk):
        reply = Reply.objects.get(message=message)
        kinds = list(Event.objects.filter(message=message).values_list("kind", flat=True))
    assert reply.ai_share == share and reply.ai_share_version
    assert "[1]" not in reply.text  # pointers to the agent's sources never reach the citizen
    assert reply.draft_text and "[1]" not in reply.draft_text
    assert reply.published
    assert reply.emailed_at is not None
    assert reload(message).state == Message.State.REPLIED
    assert kinds == ["received", "drafted", "edited", "sent", "published"]

    [email] = mail.outbox
    assert email.to == [CANTEEN["sender_email"]]
    assert "Vous pouvez inscrire votre enfant" in email.body
    assert (
        f"Cette réponse a été facilitée par l'IA à {share} %, après traitement et validation par un agent."
        in email.body
    )
    link = re.search(r"http://\S+/registre/commune-a/avis/\S+/", email.body).group(0)
    path = link.split("localhost:8000", 1)[1] if "localhost:8000" in link else "/" + link.split("/", 3)[3]

    form = client.get(path)
    assert form.status_code == 200 and "Votre avis sur notre réponse" in form.content.decode()
    assert client.post(path, {"rating": "5", "comment": "Réponse rapide et claire."}).status_code == 200
    again = client.post(path, {"rating": "1"}).content.decode()
    assert "Merci" in again
    with tenant_context(authority.pk):
        reply.refresh_from_db()
    assert (reply.citizen_rating, reply.citizen_comment) == (5, "Réponse rapide et claire.")

    board = browser.get("/messagerie/tableau-de-bord/").content.decode()
    assert "100 % (IC 95 %" in board  # one satisfied citizen, among AI-assisted replies
    public = client.get("/registre/commune-a/reponses/").content.decode()
    assert "Vous pouvez inscrire votre enfant" in public
    assert CANTEEN["sender_name"] not in public and CANTEEN["sender_email"] not in public
    assert "Camille Martin" not in public  # the signature is not published


def test_a_reply_without_a_draft_says_an_agent_wrote_it(authority, member, client_for, run_on_commit):
    message = receive(authority, POTHOLE)
    with run_on_commit():
        client_for(member(authority)).post(
            f"/messagerie/{message.pk}/envoyer/",
            {"text": "Madame,\n\nLa voirie passera demain.\n\nCordialement", "validated": "1"},
        )
    with tenant_context(authority.pk):
        reply = Reply.objects.get(message=message)
    assert reply.ai_share is None
    assert "Réponse rédigée par un agent." in mail.outbox[0].body


def test_nothing_is_sent_without_the_validation_step(drafted, authority, client_for):
    agent, message, draft = drafted
    response = client_for(agent).post(f"/messagerie/{message.pk}/envoyer/", {"text": DRAFT, "draft": draft.pk})
    assert response.status_code == 302
    with tenant_context(authority.pk):
        assert not Reply.objects.exists()
    assert mail.outbox == []


def test_no_api_route_sends_a_reply(api_client_for, authority, member, drafted):
    """The API's inbox routes read messages and take new ones; none writes a reply, whatever is sent."""
    agent, message, _draft = drafted
    api = api_client_for(agent)
    allowed = {
        path: set(api.options(path)["Allow"].replace(" ", "").split(","))
        for path in ("/api/v1/inbox/messages/", f"/api/v1/inbox/messages/{message.pk}/")
    }
    assert allowed == {
        "/api/v1/inbox/messages/": {"GET", "POST", "HEAD", "OPTIONS"},  # POST: a citizen's message
        f"/api/v1/inbox/messages/{message.pk}/": {"GET", "HEAD", "OPTIONS"},
    }
    for path in allowed:
        for method in ("post", "put", "patch", "delete"):
            getattr(api, method)(path, {"text": "Réponse", "validated": True, "state": "replied"}, format="json")
    assert api.post(f"/api/v1/inbox/messages/{message.pk}/reply/", {"text": "x"}, format="json").status_code == 404
    with tenant_context(authority.pk):
        assert not Reply.objects.exists()
        assert Message.objects.get(pk=message.pk).state == Message.State.DRAFTED
    assert mail.outbox == []


def test_a_message_answered_cannot_be_answered_twice(drafted, authority, client_for, run_on_commit):
    agent, message, draft = drafted
    browser = client_for(agent)
    data = {"text": DRAFT, "draft": draft.pk, "validated": "1"}
    with run_on_commit():
        browser.post(f"/messagerie/{message.pk}/envoyer/", data)
    with run_on_commit():
        second = browser.post(f"/messagerie/{message.pk}/envoyer/", data, follow=True)
    assert "déjà reçu une réponse" in second.content.decode()
    assert len(mail.outbox) == 1


def test_without_consent_a_reply_is_never_published(authority, member, client_for, run_on_commit, client):
    message = receive(authority, POTHOLE, consent_publication=False)
    with run_on_commit():
        client_for(member(authority)).post(
            f"/messagerie/{message.pk}/envoyer/",
            {"text": "Madame,\n\nC'est réparé.", "publish": "on", "validated": "1"},
        )
    with tenant_context(authority.pk):
        assert not Reply.objects.get(message=message).published
    assert "C'est réparé" not in client.get("/registre/commune-a/reponses/").content.decode()


def test_a_forged_or_foreign_rating_link_is_a_404(
    drafted, authority, other_authority, client, run_on_commit, client_for
):
    agent, message, draft = drafted
    with run_on_commit():
        client_for(agent).post(
            f"/messagerie/{message.pk}/envoyer/", {"text": DRAFT, "draft": draft.pk, "validated": "1"}
        )
    link = re.search(r"/registre/commune-a/avis/(\S+)/", mail.outbox[0].body)
    token = link.group(1)
    assert client.get(f"/registre/commune-a/avis/{token}x/").status_code == 404
    assert client.get(f"/registre/commune-b/avis/{token}/").status_code == 404


def test_the_draft_is_rated_once_with_a_reason(drafted, authority, client_for):
    agent, _message, draft = drafted
    browser = client_for(agent)
    browser.post(f"/messagerie/brouillons/{draft.pk}/noter/", {"rating": "4", "reason": "tone", "comment": "Trop long"})
    second = browser.post(f"/messagerie/brouillons/{draft.pk}/noter/", {"rating": "1", "reason": "wrong"}, follow=True)
    assert "déjà été noté" in second.content.decode()
    with tenant_context(authority.pk):
        draft.refresh_from_db()
    assert (draft.rating, draft.rating_reason, draft.rated_by) == (4, "tone", agent)


def test_the_check_page_shows_the_text_with_plain_line_breaks(drafted, client_for):
    agent, message, draft = drafted
    check = client_for(agent).post(
        f"/messagerie/{message.pk}/verifier/", {"text": DRAFT.replace("\n", "\r\n"), "draft": draft.pk}
    )
    assert check.status_code == 200
    assert "\r" not in check.content.decode()
    assert "à 100 %" in check.content.decode()


def test_published_text_masks_names_and_addresses_shown_before_validation(authority, member, client_for, client):
    message = receive(authority, POTHOLE, consent_publication=True, subject="Fuite d'eau devant le 12 rue des Lilas")
    text = (
        "Bonjour Madame Fontaine,\n\nLa fuite au 12 rue des Lilas sera réparée jeudi ; M. Fontaine peut "
        "joindre la voirie au 02 33 45 67 89.\n\nCordialement,\n\nLe service voirie"
    )
    browser = client_for(member(authority))
    check = browser.post(f"/messagerie/{message.pk}/verifier/", {"text": text, "publish": "on"}).content.decode()
    assert "Ce qui sera publié sur le site" in check and "[téléphone]" in check
    browser.post(f"/messagerie/{message.pk}/envoyer/", {"text": text, "publish": "on", "validated": "1"})
    public = client.get("/registre/commune-a/reponses/").content.decode()
    assert "sera réparée jeudi" in public
    for private in ("Fontaine", "12 rue des Lilas", "02 33 45 67 89", "Le service voirie"):
        assert private not in public, private
    assert "Fuite d&#x27;eau devant le [adresse]" in public


def test_a_draft_copied_by_hand_counts_like_one_inserted(drafted, authority, client_for, run_on_commit):
    """The share is measured against the message's drafts on the server, not against the draft the page named."""
    agent, message, draft = drafted
    with run_on_commit():
        client_for(agent).post(f"/messagerie/{message.pk}/envoyer/", {"text": DRAFT, "validated": "1"})
    with tenant_context(authority.pk):
        reply = Reply.objects.get(message=message)
    assert (reply.ai_share, reply.draft_id) == (100, draft.pk)


def test_a_reply_keeping_almost_nothing_of_the_draft_reads_as_the_agents(drafted, authority, client_for, run_on_commit):
    agent, message, _draft = drafted
    own = "Madame,\n\nVotre enfant peut déjeuner à la cantine dès lundi, au tarif habituel.\n\nCordialement"
    with run_on_commit():
        client_for(agent).post(f"/messagerie/{message.pk}/envoyer/", {"text": own, "validated": "1"})
    with tenant_context(authority.pk):
        reply = Reply.objects.get(message=message)
    assert reply.ai_share == 0 and not reply.ai_assisted
    assert "Réponse rédigée par un agent." in mail.outbox[0].body and "à 0 %" not in mail.outbox[0].body


def test_an_unfinished_draft_cannot_be_rated(authority, member, client_for):
    message = receive(authority, CANTEEN)
    with tenant_context(authority.pk):
        draft = Draft.objects.create(authority=authority, message=message, digest=message.digest)
    page = client_for(member(authority)).post(
        f"/messagerie/brouillons/{draft.pk}/noter/", {"rating": "5", "reason": "accurate"}, follow=True
    )
    assert "rien à noter" in page.content.decode()
    with tenant_context(authority.pk):
        assert Draft.objects.get(pk=draft.pk).rating is None


def test_an_email_that_could_not_leave_is_shown_on_the_message(authority, member, client_for, run_on_commit, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens there
    message = receive(authority, POTHOLE)
    browser = client_for(member(authority))
    with run_on_commit():
        browser.post(f"/messagerie/{message.pk}/envoyer/", {"text": "Madame,\n\nC'est réparé.", "validated": "1"})
    page = browser.get(f"/messagerie/{message.pk}/").content.decode()
    assert "Le courriel n&#x27;est pas parti" in page or "Le courriel n'est pas parti" in page
    assert "en cours d&#x27;envoi" not in page
