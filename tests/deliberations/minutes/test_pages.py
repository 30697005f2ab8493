"""The agents' pages of extraction from minutes: who may use them, starting an extraction, following it,
validating (once, whatever the clicks) and discarding proposals."""

import html

import pytest
from django.urls import reverse

from apps.deliberations.models import Deliberation, Session
from apps.documents.models import Document
from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import COUTHENANS, add_minutes, stored_minutes

Role = Membership.Role
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "offline")]
OCTOBER = COUTHENANS / "CR_conseil_municipal_07_10_2022.pdf"


@pytest.fixture
def october(authority):
    return stored_minutes(authority, OCTOBER, kind=Document.Kind.COMPTE_RENDU)


@pytest.fixture
def agent(authority, member, client_for):
    return client_for(member(authority, Role.AGENT))


@pytest.fixture
def reviewed(authority, october, agent, run_on_commit):
    """The October minutes extracted from the page, as an agent does it."""
    with run_on_commit():
        response = agent.post(reverse("deliberation-minutes"), {"document": october.pk})
    with tenant_context(authority.pk):
        session = Session.objects.get(minutes=october)
    assert response.status_code == 302 and response.url == reverse("deliberation-minutes-review", args=[session.pk])
    return session


def form_data(session, index, **changes):
    proposal = session.proposals[index]
    data = {
        "objet": proposal["objet"],
        "delib_id": proposal["delib_id"],
        "delib_date": session.date.isoformat(),
        "decision": proposal["decision"],
        "matiere_code": "",
    }
    data |= {
        name: "" if proposal.get(name) is None else proposal[name]
        for name in ("vote_effectif", "vote_reel", "vote_pour", "vote_contre", "vote_abstention")
    }
    data |= changes
    return {f"p-{proposal['id']}-{key}": value for key, value in data.items()}


def test_the_list_offers_minutes_documents_with_the_button(authority, october, agent, run_on_commit):
    other = stored_minutes(authority, COUTHENANS / "CR_reunion_20211105.pdf", kind=Document.Kind.NOTE)
    page = html.unescape(agent.get(reverse("deliberation-minutes")).content.decode())
    assert "CR_conseil_municipal_07_10_2022" in page and "Proposer les délibérations" in page
    assert "CR_reunion_20211105" not in page  # a note is not minutes…
    chosen = agent.get(reverse("deliberation-minutes"), {"document": other.pk}).content.decode()
    assert "CR_reunion_20211105" in chosen  # …unless an agent comes from its page


def test_an_agent_starts_an_extraction_and_reviews_the_proposals(authority, reviewed, agent):
    page = html.unescape(agent.get(reverse("deliberation-minutes-review", args=[reviewed.pk])).content.decode())
    assert "Conseil municipal du 7 octobre 2022" in page
    assert "Déneigement (rajouté en préambule du conseil municipal)" in page
    assert "« 11 votes pour 2 abstentions »" in page
    assert page.count(">Valider</button>") == 5 and page.count("Écarter") == 5
    assert 'value="2022-02"' in page  # the proposed number, editable


def test_validating_creates_one_deliberation_even_on_a_double_click(authority, reviewed, agent):
    url = reverse("deliberation-minutes-accept", args=[reviewed.pk, reviewed.proposals[1]["id"]])
    data = form_data(reviewed, 1, delib_id="2022-12", objet="Déneigement : reprise du marché")
    first, second = agent.post(url, data), agent.post(url, data)
    assert first.status_code == 302 and second.status_code == 302
    with tenant_context(authority.pk):
        created = Deliberation.objects.get()
        session = Session.objects.get(pk=reviewed.pk)
    assert (created.delib_id, created.objet, created.vote_pour, created.vote_abstention) == (
        "2022-12",
        "Déneigement : reprise du marché",
        11,
        2,
    )
    assert created.origin == Deliberation.Origin.MINUTES and not created.published
    assert session.proposals[1]["status"] == "accepted" and session.proposals[1]["deliberation_id"] == created.pk
    page = agent.get(reverse("deliberation-minutes-review", args=[reviewed.pk])).content.decode()
    assert "Délibération <strong>2022-12</strong> enregistrée" in page


def test_invalid_corrections_are_shown_on_the_form_and_nothing_is_created(authority, reviewed, agent):
    response = agent.post(
        reverse("deliberation-minutes-accept", args=[reviewed.pk, reviewed.proposals[1]["id"]]),
        form_data(reviewed, 1, vote_pour="20", objet=""),
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Ce champ est obligatoire." in page
    response = agent.post(
        reverse("deliberation-minutes-accept", args=[reviewed.pk, reviewed.proposals[1]["id"]]),
        form_data(reviewed, 1, vote_pour="20"),
    )
    assert response.status_code == 400 and "Pour, contre et abstentions font 22, pas 13 votants." in html.unescape(
        response.content.decode()
    )
    with tenant_context(authority.pk):
        assert not Deliberation.objects.exists()


def test_discarding_a_proposal(authority, reviewed, agent):
    response = agent.post(reverse("deliberation-minutes-reject", args=[reviewed.pk, reviewed.proposals[0]["id"]]))
    assert response.status_code == 302
    with tenant_context(authority.pk):
        assert Session.objects.get(pk=reviewed.pk).proposals[0]["status"] == "rejected"
        assert not Deliberation.objects.exists()
    page = agent.get(reverse("deliberation-minutes-review", args=[reviewed.pk])).content.decode()
    assert "Écartée" in page and page.count(">Valider</button>") == 4


def test_a_document_not_indexed_is_refused_with_a_french_message(authority, agent, run_on_commit):
    document = add_minutes(authority, run_on_commit, OCTOBER, index=False)
    response = agent.post(reverse("deliberation-minutes"), {"document": document.pk}, follow=True)
    assert "Le document n&#x27;est pas encore indexé" in response.content.decode()
    with tenant_context(authority.pk):
        assert not Session.objects.exists()


def test_progress_is_polled_while_the_job_runs_then_the_page_reloads(authority, october, agent):
    with tenant_context(authority.pk):  # queued, not run: the worker has not picked it up yet
        session = Session.objects.create(authority=authority, minutes=october, date="2022-10-07")
        job = Job.objects.create(
            authority=authority,
            kind="deliberations.extract_minutes",
            state="running",
            progress=40,
            message="Lecture du procès-verbal…",
            params={"session_id": session.pk},
        )
    url = reverse("deliberation-minutes-review", args=[session.pk])
    page = agent.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page and 'value="40"' in page
    fragment = agent.get(url, {"fragment": "progression"}, HTTP_HX_REQUEST="true")
    assert "Lecture du procès-verbal" in fragment.content.decode() and "<h1>" not in fragment.content.decode()
    with tenant_context(authority.pk):
        Job.objects.filter(pk=job.pk).update(state="succeeded", progress=100)
    done = agent.get(url, {"fragment": "progression"}, HTTP_HX_REQUEST="true")
    assert done.headers["HX-Refresh"] == "true"


def test_role_matrix(authority, other_authority, member, client, client_for, reviewed):
    review = reverse("deliberation-minutes-review", args=[reviewed.pk])
    accept = reverse("deliberation-minutes-accept", args=[reviewed.pk, reviewed.proposals[0]["id"]])
    reject = reverse("deliberation-minutes-reject", args=[reviewed.pk, reviewed.proposals[0]["id"]])
    listing = reverse("deliberation-minutes")
    for url in (listing, review):
        assert client.get(url).url.startswith(reverse("login"))
    reader = client_for(member(authority, Role.READER))
    assert [
        reader.get(listing).status_code,
        reader.get(review).status_code,
        reader.post(accept).status_code,
        reader.post(reject).status_code,
    ] == [403, 403, 403, 403]
    administrator = client_for(member(authority, Role.ADMINISTRATOR))
    assert administrator.get(review).status_code == 200
    stranger = client_for(member(other_authority, Role.ADMINISTRATOR))
    assert [stranger.get(review).status_code, stranger.post(accept).status_code, stranger.post(reject).status_code] == [
        404,
        404,
        404,
    ]
    assert "CR_conseil_municipal_07_10_2022" not in stranger.get(listing).content.decode()
    with tenant_context(authority.pk):
        assert Session.objects.get(pk=reviewed.pk).proposals[0]["status"] == "pending"
