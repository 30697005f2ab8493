"""The extraction job on real documents indexed by the documents pipeline: session and proposals stored,
re-runs that keep the agent's decisions, a document not yet indexed, and the model path (fake server)."""

import json
from datetime import date

import pytest

from apps.deliberations import nomenclature
from apps.deliberations.minutes.extraction import MinutesError, start_extraction
from apps.deliberations.minutes.review import ProposalNotFound, accept_proposal, reject_proposal
from apps.deliberations.models import Deliberation, Session
from apps.documents.models import Document
from apps.jobs.models import Job
from apps.tenants.context import tenant_context

from .support import AVRANCHES, COUTHENANS, add_minutes, stored_minutes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
OCTOBER = COUTHENANS / "CR_conseil_municipal_07_10_2022.pdf"


def extract(authority, document, run_on_commit):
    with run_on_commit(), tenant_context(authority.pk):
        session, job = start_extraction(authority=authority, document=document)
    with tenant_context(authority.pk):
        return Session.objects.get(pk=session.pk), Job.objects.get(pk=job.pk)


@pytest.fixture
def october(authority):
    return stored_minutes(authority, OCTOBER, kind=Document.Kind.COMPTE_RENDU)


def test_a_couthenans_pdf_indexed_then_extracted_gives_its_session_and_proposals(
    authority, run_on_commit, offline, settings
):
    settings.MINUTES_MATIERE_SECONDS = 60  # the routing's suggestions, on (off by default in these tests)
    october = add_minutes(authority, run_on_commit, OCTOBER)  # through the real indexing pipeline
    assert october.state == Document.State.INDEXED, october.error
    session, job = extract(authority, october, run_on_commit)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert (session.date, session.minutes_id) == (date(2022, 10, 7), october.pk)
    assert session.title == "Conseil municipal du 7 octobre 2022"
    objets = [p["objet"] for p in session.proposals]
    assert objets == [
        "ONF Etat d’assiette 2023",
        "Déneigement (rajouté en préambule du conseil municipal)",
        "Subventions aux associations",
        "Adoption de la nomenclature budgtéraire et comptable M57 simplifiée",
        "Modification du texte de changement des tarifs de la salle",
    ]
    snow = session.proposals[1]  # « 11 votes pour 2 abstentions »
    assert (snow["vote_pour"], snow["vote_abstention"], snow["vote_reel"], snow["status"]) == (11, 2, 13, "pending")
    assert [p["delib_id"] for p in session.proposals] == ["2022-01", "2022-02", "2022-03", "2022-04", "2022-05"]
    assert job.result["mode"] == "règles" and job.result["proposals"] == 5
    assert session.proposals[4]["page"] == 2
    # The embedder that indexed the PDF also routes: each proposal gets the routing's level-2 matière.
    suggestions = [proposal["matiere_suggestion"] for proposal in session.proposals]
    assert None not in suggestions, suggestions
    for suggestion in suggestions:
        assert nomenclature.get(suggestion["code"]).level == 2, suggestion
        assert suggestion["label"] == nomenclature.label_path(suggestion["code"])
        assert 0 < suggestion["score"] <= 1


def ids(session) -> list[str]:
    return [proposal["id"] for proposal in session.proposals]


def test_rerun_replaces_pending_proposals_and_keeps_accepted_and_rejected(authority, october, run_on_commit, offline):
    session, _ = extract(authority, october, run_on_commit)
    with tenant_context(authority.pk):
        deliberation = accept_proposal(session=session, proposal_id=ids(session)[0], values={"delib_id": "2022-40"})
        reject_proposal(session=session, proposal_id=ids(session)[3])
        Session.objects.filter(pk=session.pk).update(
            proposals=[
                *Session.objects.get(pk=session.pk).proposals,
                {"id": "5a1e5a1e5a1e", "objet": "Stale", "status": "pending", "offset": 99999},
            ]
        )
    again, job = extract(authority, october, run_on_commit)
    assert job.state == Job.State.SUCCEEDED
    assert [p["status"] for p in again.proposals] == ["accepted", "pending", "pending", "rejected", "pending"]
    assert ids(again)[0] == ids(session)[0] and ids(again)[3] == ids(session)[3]  # decided: same ids
    assert len(set(ids(again))) == 5 and not set(ids(again)[1:3]) & set(ids(session))  # replaced: new ids
    assert again.proposals[0]["deliberation_id"] == deliberation.pk and again.proposals[0]["delib_id"] == "2022-40"
    assert "Stale" not in [p["objet"] for p in again.proposals]
    assert again.pk == session.pk
    with tenant_context(authority.pk):
        assert Session.objects.filter(minutes=october).count() == 1
        assert Deliberation.objects.count() == 1
    assert [p["delib_id"] for p in again.proposals if p["status"] == "pending"] == ["2022-41", "2022-42", "2022-43"]


def test_accepting_creates_one_unpublished_deliberation_even_when_repeated(authority, october, run_on_commit, offline):
    authority.settings = {"siret": "213501762 00011"}
    authority.save()
    session, _ = extract(authority, october, run_on_commit)
    with tenant_context(authority.pk):
        first = accept_proposal(session=session, proposal_id=ids(session)[1], values={"matiere_code": "8.3"})
        second = accept_proposal(session=session, proposal_id=ids(session)[1], values={"matiere_code": "8.3"})
        assert first.pk == second.pk and Deliberation.objects.count() == 1
        created = Deliberation.objects.get(pk=first.pk)
    assert (created.origin, created.published, created.session_id) == ("minutes", False, session.pk)
    assert (created.coll_nom, created.coll_siret) == ("Commune A", "21350176200011")
    assert created.delib_date == date(2022, 10, 7)
    assert (created.vote_pour, created.vote_abstention, created.vote_reel) == (11, 2, 13)
    assert (created.matiere_code, created.matiere_confirmed) == ("8.3", True)
    assert created.matiere_nom == nomenclature.label_path("8.3") != ""
    assert created.decision == "Adoptée"


def test_accept_refuses_inconsistent_votes_and_a_taken_number(authority, october, run_on_commit, offline):
    session, _ = extract(authority, october, run_on_commit)
    with tenant_context(authority.pk):
        with pytest.raises(MinutesError) as bad_votes:
            accept_proposal(session=session, proposal_id=ids(session)[0], values={"vote_pour": 20})
        assert "vote_reel" in bad_votes.value.errors
        accept_proposal(session=session, proposal_id=ids(session)[0], values={})
        with pytest.raises(MinutesError) as taken:
            accept_proposal(session=session, proposal_id=ids(session)[2], values={"delib_id": "2022-01"})
        assert "déjà pris" in taken.value.errors["delib_id"]
        with pytest.raises(MinutesError):
            reject_proposal(session=session, proposal_id=ids(session)[0])  # accepted: stays in the register
        assert Session.objects.get(pk=session.pk).proposals[2]["status"] == "pending"


def test_a_document_not_yet_indexed_is_refused_in_french(authority, run_on_commit, offline):
    document = add_minutes(authority, run_on_commit, OCTOBER, index=False)
    assert document.state == Document.State.PENDING
    with tenant_context(authority.pk), pytest.raises(MinutesError) as refused:
        start_extraction(authority=authority, document=document)
    assert refused.value.user_message.startswith("Le document n'est pas encore indexé")
    with tenant_context(authority.pk):
        assert not Session.objects.exists()
        # A job queued before the document was re-indexed fails with the same message.
        Document.objects.filter(pk=document.pk).update(state=Document.State.INDEXED, pages=[{"number": 1, "text": "x"}])
        document.refresh_from_db()
    with run_on_commit(), tenant_context(authority.pk):
        _, job = start_extraction(authority=authority, document=document)
        Document.objects.filter(pk=document.pk).update(state=Document.State.PROCESSING)
    with tenant_context(authority.pk):
        job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.error.startswith("Le document n'est pas encore indexé")


def model_answer(messages):
    """What a model would answer for the October minutes: one proposal the rules also make (with its
    votes), one the rules miss, and a vote count that is not in the text."""
    prompt = messages[-1]["content"]
    assert "<texte" in prompt and "Jean-Pierre JEANROY" not in prompt  # pseudonymised before it left
    return json.dumps(
        {
            "deliberations": [
                {
                    "objet": "Déneigement",
                    "decision": "Adoptée",
                    "vote_pour": 11,
                    "vote_contre": 0,
                    "vote_abstention": 2,
                    "citation": "11 votes pour 2 abstentions",
                },
                {
                    "objet": "Nomination d'un référent incendie",
                    "decision": "Adoptée",
                    "vote_pour": 12,
                    "citation": "Nomination d’un référent incendie : David Tripogney sera le correspondant incendie",
                },
            ]
        }
    )


def test_model_proposals_are_checked_against_the_text_and_merged(authority, october, run_on_commit, fake_llm):
    fake_llm.answer = model_answer
    session, job = extract(authority, october, run_on_commit)
    assert job.state == Job.State.SUCCEEDED and job.result["mode"] == "règles + modèle"
    request = fake_llm.generation_requests()[0].json
    assert request["temperature"] == 0.0
    assert len(session.proposals) == 6
    snow = next(p for p in session.proposals if p["objet"].startswith("Déneigement"))
    assert snow["source"] == "règles + modèle" and snow["vote_pour"] == 11
    extra = next(p for p in session.proposals if p["source"] == "modèle")
    assert extra["objet"] == "Nomination d'un référent incendie" and extra["page"] == 2
    assert extra["vote_pour"] is None  # 12 is nowhere in the text: dropped
    assert any("absent du texte" in note for note in extra["notes"])
    from apps.ai.models import Generation  # every model call is audited

    with tenant_context(authority.pk):
        audited = Generation.objects.get(task="extraction")
    assert audited.template.startswith("extract_deliberations") and audited.prompt_tokens > 0
    assert audited.output.startswith('{"deliberations"') and audited.outcome == Generation.Outcome.DONE


def test_invalid_json_from_the_model_leaves_the_rules_proposals_with_a_notice(
    authority, october, run_on_commit, fake_llm
):
    fake_llm.answer = "Voici les délibérations : 1. ONF, 2. Déneigement…"
    session, job = extract(authority, october, run_on_commit)
    assert job.state == Job.State.SUCCEEDED and job.result["mode"] == "règles"
    assert len(session.proposals) == 5 and {p["source"] for p in session.proposals} == {"règles"}
    assert any("JSON" in notice for notice in job.result["notices"])


def test_an_unavailable_model_leaves_the_rules_proposals_with_a_notice(authority, october, run_on_commit, fake_llm):
    fake_llm.fail_next(5, "503")
    session, job = extract(authority, october, run_on_commit)
    assert job.state == Job.State.SUCCEEDED and len(session.proposals) == 5
    assert any("règles seules" in notice for notice in job.result["notices"])


def test_long_avranches_minutes_are_sent_in_parts(authority, run_on_commit, fake_llm, settings):
    document = stored_minutes(authority, AVRANCHES / "avranches_CM04.07.2017_-_PV.txt")
    session, job = extract(authority, document, run_on_commit)
    assert job.state == Job.State.SUCCEEDED
    parts = fake_llm.generation_requests()
    assert len(parts) == 4  # ~37,600 characters, 12,000 per call
    assert all("NICOLAS" not in r.json["messages"][-1]["content"] for r in parts)
    assert len(session.proposals) == 25 and session.date == date(2017, 7, 4)


def test_a_page_loaded_before_a_rerun_can_never_accept_another_proposal(authority, october, run_on_commit, offline):
    """Proposals were addressed by their position, which a re-run re-sorts; a stable id cannot drift."""
    session, _ = extract(authority, october, run_on_commit)
    shown = session.proposals[2]  # what the agent's page shows, loaded before the re-run
    again, _ = extract(authority, october, run_on_commit)
    with tenant_context(authority.pk):
        with pytest.raises(ProposalNotFound) as gone:
            accept_proposal(session=again, proposal_id=shown["id"], values={})
        assert "rechargez la page" in gone.value.user_message
        assert Deliberation.objects.count() == 0
        created = accept_proposal(session=again, proposal_id=ids(again)[2], values={})
    assert created.objet == again.proposals[2]["objet"] == shown["objet"]  # the same proposal, found again by id
