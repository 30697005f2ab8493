"""Role matrix of subject routing: every caller asks for matière suggestions (nothing is stored); agents
(and write keys) confirm a deliberation's matière and classify deliberations in the background; another
authority's deliberations are never reached. Suggesting and classifying embed texts (about a second)."""

import pytest
from django.urls import reverse

from apps.deliberations import nomenclature
from apps.deliberations.models import Deliberation
from apps.deliberations.routing.job import JOB_KIND as CLASSIFY_JOB
from apps.jobs.models import Job
from tests.deliberations.routing.support import add_deliberation, level2_codes, suggestion

from . import matrix
from .objects import exists, read

pytestmark = pytest.mark.django_db
LOANS = "Garantie d'emprunt accordée à un bailleur social"


def stored(authority, deliberation) -> Deliberation:
    return read(Deliberation, authority, pk=deliberation.pk)[0]


@matrix.action(
    "api:deliberation-suggest-matiere",
    "POST",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_every_caller_gets_matiere_suggestions_and_nothing_is_stored(caller, authority):
    response = caller.call(data={"objet": LOANS, "k": 2})
    assert not exists(Deliberation, authority)
    if caller.allowed:
        suggestions = response.json()["suggestions"]
        assert [s["level"] for s in suggestions] == [2, 2, 1, 1]
        assert all(nomenclature.get(s["code"]).level == s["level"] and 0 <= s["score"] <= 1 for s in suggestions)
        for level in (suggestions[:2], suggestions[2:]):  # best first
            assert level[0]["score"] >= level[1]["score"]


@matrix.action(
    "api:deliberation-set-matiere",
    "POST",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_confirm_the_matiere_of_a_published_deliberation(caller, authority):
    deliberation = add_deliberation(
        authority,
        "Attribution d'une subvention au club de basket",
        "7.10",
        embed=False,
        published=True,
        suggestions=[suggestion("7.5", 0.82)],
    )
    response = caller.call(deliberation.pk, data={"code": "7.5"})
    row = stored(authority, deliberation)
    assert (row.matiere_code, row.matiere_confirmed, bool(row.matiere_suggestions)) == (
        ("7.5", True, False) if caller.allowed else ("7.10", False, True)
    )
    if caller.allowed:
        assert response.json()["id"] == deliberation.pk
        assert response.json()["matiere_nom"] == "Finances locales/Subventions"


@matrix.action(
    "api:deliberation-classify",
    "POST",
    reader=403,
    agent=202,
    administrator=202,
    read_key=403,
    write_key=202,
    other_authority=202,
)
def test_agents_classify_their_own_authority_deliberations(caller, authority, other_authority, run_on_commit):
    ours, theirs = (
        add_deliberation(owner, LOANS, embed=False, published=True) for owner in (authority, other_authority)
    )
    target = theirs if caller.stranger else ours
    if caller.stranger:  # our deliberation's id is unknown to another authority
        refused = caller.client.post(reverse(caller.action.route), {"ids": [ours.pk]}, format="json")
        assert refused.status_code == 400 and "introuvable" in refused.json()["errors"]["ids"][0]
    with run_on_commit():
        response = caller.call(data={"ids": [target.pk]})
    assert exists(Job, authority, kind=CLASSIFY_JOB) is (caller.allowed and not caller.stranger)
    assert bool(stored(authority, ours).matiere_suggestions) is (caller.allowed and not caller.stranger)
    if caller.allowed:
        body = response.json()
        assert (body["kind"], body["state"]) == (CLASSIFY_JOB, "pending")  # answered before the job ran
        job = read(Job, caller.authority, pk=body["id"])[0]
        assert (job.state, job.params, job.result["classified"]) == (Job.State.SUCCEEDED, {"ids": [target.pk]}, 1)
        assert level2_codes(stored(caller.authority, target).matiere_suggestions)
