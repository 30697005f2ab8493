"""Role matrix of `/api/v1/deliberations/`: every caller reads its authority's register and its SCDL export;
agents (and write keys) create, change, publish, withdraw and delete deliberations; another authority's
deliberations are never reached, not even published ones (which row-level security lets it read)."""

import pytest

from apps.deliberations.models import Deliberation
from tests.deliberations.register.support import RENNES_SIRET, add

from . import matrix
from .objects import exists, read

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "coll_nom": "Commune A",
    "coll_siret": RENNES_SIRET,
    "delib_id": "2024-020",
    "delib_date": "2024-04-02",
    "matiere_code": "7.5",
    "objet": "Subvention à l'association des parents d'élèves",
    "vote_effectif": 19,
    "vote_reel": 18,
    "vote_pour": 18,
    "vote_contre": 0,
    "vote_abstention": 0,
}


def stored(authority, deliberation) -> Deliberation:
    return read(Deliberation, authority, pk=deliberation.pk)[0]


@matrix.action(
    "api:deliberation-list",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_every_caller_lists_its_own_authority_register(caller, authority, other_authority):
    # Both published: row-level security lets each authority read the other's, the register must not.
    ours = add(authority, delib_id="2023-001", objet="Subvention au club de football", published=True)
    theirs = add(other_authority, delib_id="B-001", objet="Subvention au club de rugby", published=True)
    response = caller.call()
    if caller.allowed:
        assert [row["id"] for row in response.json()["results"]] == [(theirs if caller.stranger else ours).pk]


@matrix.action(
    "api:deliberation-list",
    "POST",
    reader=403,
    agent=201,
    administrator=201,
    read_key=403,
    write_key=201,
    other_authority=201,
)
def test_agents_add_deliberations_to_their_own_authority_register(caller, authority):
    response = caller.call(data=PAYLOAD)
    assert exists(Deliberation, authority, delib_id="2024-020") is (caller.allowed and not caller.stranger)
    if caller.allowed:
        body = response.json()
        assert (body["matiere_nom"], body["origin"], body["published"]) == (
            "Finances locales/Subventions",
            "api",
            False,
        )
        assert exists(Deliberation, caller.authority, pk=body["id"], objet=PAYLOAD["objet"])


@matrix.action(
    "api:deliberation-detail",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_every_member_reads_a_deliberation_even_published_only_in_its_authority(caller, authority):
    deliberation = add(authority, delib_id="2023-001", objet="Subvention au club de football", published=True)
    response = caller.call(deliberation.pk)
    if caller.allowed:
        body = response.json()
        assert (body["id"], body["delib_id"], body["objet"], body["published"]) == (
            deliberation.pk,
            "2023-001",
            "Subvention au club de football",
            True,
        )


@matrix.action(
    "api:deliberation-detail",
    "PUT",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_replace_a_deliberation(caller, authority):
    deliberation = add(authority, delib_id="2023-001", objet="Subvention au club de football")
    response = caller.call(deliberation.pk, data=PAYLOAD)
    row = stored(authority, deliberation)
    assert (row.delib_id, row.objet, row.vote_pour) == (
        ("2024-020", PAYLOAD["objet"], 18) if caller.allowed else ("2023-001", "Subvention au club de football", None)
    )
    if caller.allowed:
        assert response.json()["delib_id"] == "2024-020"


@matrix.action(
    "api:deliberation-detail",
    "PATCH",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_change_a_published_deliberation(caller, authority):
    deliberation = add(authority, delib_id="2023-001", objet="Subvention au club de football", published=True)
    response = caller.call(deliberation.pk, data={"decision": "Adoptée à l'unanimité"})
    assert stored(authority, deliberation).decision == ("Adoptée à l'unanimité" if caller.allowed else "")
    if caller.allowed:
        assert response.json()["decision"] == "Adoptée à l'unanimité" and response.json()["published"] is True


@matrix.action(
    "api:deliberation-detail",
    "DELETE",
    reader=403,
    agent=204,
    administrator=204,
    read_key=403,
    write_key=204,
    other_authority=404,
)
def test_agents_delete_a_published_deliberation(caller, authority):
    deliberation = add(authority, delib_id="2023-001", published=True)
    caller.call(deliberation.pk)
    assert exists(Deliberation, authority, pk=deliberation.pk) is not caller.allowed


@matrix.action(
    "api:deliberation-publish",
    "POST",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_publish_a_deliberation(caller, authority):
    deliberation = add(authority, delib_id="2023-001")
    response = caller.call(deliberation.pk)
    assert stored(authority, deliberation).published is caller.allowed
    if caller.allowed:
        assert response.json()["id"] == deliberation.pk and response.json()["published"] is True


@matrix.action(
    "api:deliberation-unpublish",
    "POST",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_withdraw_a_deliberation_from_the_public_register(caller, authority):
    deliberation = add(authority, delib_id="2023-001", published=True)
    response = caller.call(deliberation.pk)
    assert stored(authority, deliberation).published is not caller.allowed
    if caller.allowed:
        assert response.json()["id"] == deliberation.pk and response.json()["published"] is False


@matrix.action(
    "api:deliberation-export",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_every_caller_exports_its_own_authority_published_register(caller, authority, other_authority):
    add(authority, delib_id="A-PUBLIEE", published=True)
    add(authority, delib_id="A-BROUILLON")
    add(other_authority, delib_id="B-PUBLIEE", published=True)
    response = caller.call()
    if caller.allowed:
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].endswith(f'deliberations-{caller.authority.slug}.csv"')
        lines = response.content.decode("utf-8").splitlines()
        assert lines[0].startswith("COLL_NOM,") and len(lines) == 2
        assert ("B-PUBLIEE" if caller.stranger else "A-PUBLIEE") in lines[1]
