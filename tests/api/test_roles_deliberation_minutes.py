"""Role matrix of extraction from minutes: every caller reads its authority's sessions' proposals; agents
(and write keys) start an extraction, accept a proposal (a deliberation is created) or reject one; another
authority's documents and sessions are never reached. Real minutes (Couthenans, 29 January 2021), read by
the rules only: no model, no matière suggestion (it would embed every objet)."""

import pytest

from apps.deliberations.minutes.extraction import JOB_KIND as EXTRACT_JOB
from apps.deliberations.minutes.extraction import start_extraction
from apps.deliberations.models import Deliberation, Session
from apps.documents.models import Document
from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from tests.deliberations.minutes.support import COUTHENANS, stored_minutes

from . import matrix
from .objects import exists, read

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]
JANUARY = COUTHENANS / "CR_reunion_20210129.pdf"
ACCDM = 3  # « Adhésion aux associations — ACCDM »: 9 pour, 5 abstentions


@pytest.fixture(autouse=True)
def no_matiere_suggestions(settings):
    settings.MINUTES_MATIERE_SECONDS = 0


def minutes(authority) -> Document:
    return stored_minutes(authority, JANUARY, kind=Document.Kind.COMPTE_RENDU)


def extracted_session(authority, run_on_commit) -> Session:
    """The session of the January minutes with its four pending proposals, as the extraction job left it."""
    document = minutes(authority)
    with run_on_commit(), tenant_context(authority.pk):
        session, _ = start_extraction(authority=authority, document=document)
    return stored(authority, session)


def stored(authority, session) -> Session:
    return read(Session, authority, pk=session.pk)[0]


def statuses(authority, session) -> list[str]:
    return [proposal["status"] for proposal in stored(authority, session).proposals]


@matrix.action(
    "api:deliberation-minutes",
    "POST",
    reader=403,
    agent=202,
    administrator=202,
    read_key=403,
    write_key=202,
    other_authority=404,
)
def test_agents_extract_the_deliberations_of_their_authority_minutes(caller, authority, run_on_commit):
    document = minutes(authority)
    with run_on_commit():
        response = caller.call(data={"document": document.pk})
    assert exists(Session, authority, minutes=document) is caller.allowed
    assert exists(Job, authority, kind=EXTRACT_JOB) is caller.allowed
    if caller.allowed:
        body = response.json()
        session = read(Session, authority, pk=body["session"], minutes=document)[0]
        assert (body["job"]["kind"], str(session.date)) == (EXTRACT_JOB, "2021-01-29")
        assert read(Job, authority, pk=body["job"]["id"])[0].state == Job.State.SUCCEEDED
        assert statuses(authority, session) == ["pending"] * 4


@matrix.action(
    "api:deliberation-proposals",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_every_member_reads_a_session_proposals(caller, authority, run_on_commit):
    session = extracted_session(authority, run_on_commit)
    response = caller.call(session.pk)
    if caller.allowed:
        body = response.json()
        assert (body["session"]["id"], body["session"]["date"], body["job"]["state"]) == (
            session.pk,
            "2021-01-29",
            "succeeded",
        )
        assert [p["id"] for p in body["proposals"]] == [p["id"] for p in session.proposals]
        accdm = body["proposals"][ACCDM]
        assert accdm["objet"].startswith("Adhésion aux associations — ACCDM")
        assert (accdm["status"], accdm["vote_pour"], accdm["vote_abstention"]) == ("pending", 9, 5)


@matrix.action(
    "api:deliberation-proposal-accept",
    "POST",
    reader=403,
    agent=201,
    administrator=201,
    read_key=403,
    write_key=201,
    other_authority=404,
)
def test_agents_accept_a_proposal_as_a_deliberation(caller, authority, run_on_commit):
    session = extracted_session(authority, run_on_commit)
    proposal_id = session.proposals[ACCDM]["id"]
    response = caller.call(session.pk, proposal_id, data={"delib_id": "2021-007", "matiere_code": "7.5"})
    created = read(Deliberation, authority, delib_id="2021-007")
    assert bool(created) is caller.allowed
    assert statuses(authority, session)[ACCDM] == ("accepted" if caller.allowed else "pending")
    if caller.allowed:
        deliberation = created[0]
        assert (deliberation.session_id, deliberation.origin, deliberation.published) == (session.pk, "minutes", False)
        assert (deliberation.vote_pour, deliberation.vote_abstention, deliberation.matiere_code) == (9, 5, "7.5")
        assert response.json()["id"] == deliberation.pk and response.json()["delib_id"] == "2021-007"


@matrix.action(
    "api:deliberation-proposal-reject",
    "POST",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_reject_a_proposal(caller, authority, run_on_commit):
    session = extracted_session(authority, run_on_commit)
    proposal_id = session.proposals[0]["id"]
    response = caller.call(session.pk, proposal_id)
    assert statuses(authority, session) == ["rejected" if caller.allowed else "pending"] + ["pending"] * 3
    assert not exists(Deliberation, authority)
    if caller.allowed:
        assert (response.json()["id"], response.json()["status"]) == (proposal_id, "rejected")
