"""Role matrix of similar deliberations: every member reads the acts nearest to one of its deliberations
(its own, published or not, and other authorities' published ones, never their drafts); agents (and write
keys) ask the assistant to compare two (a generation is queued, no model runs); another authority's
deliberations are never reached. Four short objets are embedded once per test process."""

import pytest

from apps.ai.models import Generation
from apps.jobs.models import Job
from tests.deliberations.routing.support import add_deliberation

from . import matrix
from .objects import exists, read

pytestmark = pytest.mark.django_db
SUBSIDY = "Fonds de concours à la commune de Farnay pour la création de deux logements"


@pytest.fixture
def nearby(authority, other_authority):
    """Our published deliberation, our draft on the same subject, another authority's published one and
    its draft: embedded, so that the API computes nothing."""
    return {
        "ours": add_deliberation(authority, SUBSIDY, "7.5", published=True),
        "our_draft": add_deliberation(authority, "Fonds de concours à la commune de Farnay", "7.5"),
        "theirs": add_deliberation(
            other_authority, "Fonds de concours à Fontanès pour ses loisirs", "7.5", published=True
        ),
        "their_draft": add_deliberation(other_authority, "Fonds de concours pour deux logements à Farnay", "7.5"),
    }


@matrix.action(
    "api:deliberation-similar",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_every_member_reads_the_nearest_deliberations_but_no_other_authority_draft(caller, authority, nearby):
    response = caller.call(nearby["ours"].pk)
    if caller.allowed:
        body = response.json()
        assert body["deliberation"] == nearby["ours"].pk
        found = {row["id"]: row["same_authority"] for row in body["results"]}
        assert found == {nearby["our_draft"].pk: True, nearby["theirs"].pk: False}


@matrix.action(
    "api:deliberation-compare",
    "POST",
    reader=403,
    agent=202,
    administrator=202,
    read_key=403,
    write_key=202,
    other_authority=404,
)
def test_agents_compare_their_deliberation_with_another_authority_published_one(
    caller, authority, other_authority, fake_llm
):
    ours = add_deliberation(authority, SUBSIDY, "7.5", embed=False)
    theirs = add_deliberation(
        other_authority, "Fonds de concours à la commune de Fontanès", "7.5", embed=False, published=True
    )
    response = caller.call(ours.pk, data={"with": theirs.pk})
    assert exists(Generation, authority) is caller.allowed
    assert not exists(Generation, other_authority)
    if caller.allowed:
        body = response.json()
        generation = read(Generation, authority, pk=body["id"])[0]
        assert (generation.task, generation.input, generation.user) == (
            "compare",
            {"deliberations": [ours.pk, theirs.pk]},
            caller.user,
        )
        assert exists(Job, authority, pk=generation.job_id, state=Job.State.PENDING)
        assert body["stream_url"].endswith(f"/generations/{generation.pk}/stream/")
    assert fake_llm.requests == []  # queued, not run: no model call
