"""Role matrix of the assistant's generations: a caller follows, streams and rates its own generations
(an API key those made by keys); administrators see all of their authority's, and export the audit log;
another authority's generations are never reached."""

import pytest

from apps.ai.models import Generation

from . import matrix
from .objects import make_generation, read

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(caller, authority, member):
    """A generation the caller asked for in this authority (for another authority's administrator: one of
    this authority's agents asked for it)."""
    user = member(authority) if caller.stranger else caller.user
    return make_generation(authority, user=user)


@matrix.action(
    "api:generation-list",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_callers_list_their_own_generations_administrators_all(caller, authority, member):
    own = make_generation(caller.authority or authority, user=caller.user)
    colleague = make_generation(authority, user=member(authority))
    response = caller.call()
    if caller.allowed:
        ids = {row["id"] for row in response.json()["results"]}
        sees_all_of_ours = caller.role == "administrator" and not caller.stranger
        assert ids == ({own.pk, colleague.pk} if sees_all_of_ours else {own.pk})


@matrix.action(
    "api:generation-detail",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_callers_read_their_own_generation(caller, mine):
    response = caller.call(mine.pk)
    if caller.allowed:
        assert (response.json()["id"], response.json()["output"]) == (mine.pk, "Réponse.")


@matrix.action(
    "api:generation-detail",
    "GET",
    reader=404,
    agent=404,
    administrator=200,
    read_key=404,
    write_key=404,
    other_authority=404,
)
def test_only_administrators_read_a_colleague_generation(caller, authority, member):
    colleague = make_generation(authority, user=member(authority))
    response = caller.call(colleague.pk)
    if caller.allowed:
        assert response.json()["id"] == colleague.pk


@matrix.action(
    "api:generation-stream",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_callers_stream_their_own_generation(caller, mine):
    response = caller.call(mine.pk, HTTP_ACCEPT="text/event-stream")
    if caller.allowed:
        assert response["Content-Type"].startswith("text/event-stream")
        events = b"".join(response.streaming_content).decode()
        assert "event: done" in events and f'"id": {mine.pk}' in events


@matrix.action(
    "api:generation-feedback",
    "POST",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_callers_rate_their_own_generation(caller, authority, mine):
    response = caller.call(mine.pk, data={"rating": "down", "reason": "Source obsolète"})
    stored = read(Generation, authority, pk=mine.pk)[0]
    assert (stored.rating, stored.rating_reason) == ((-1, "Source obsolète") if caller.allowed else (None, ""))
    if caller.allowed:
        assert response.json()["rating"] == -1


@matrix.action(
    "api:assistant-audit-export",
    "GET",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=200,
)
def test_administrators_export_their_own_authority_audit_log(caller, authority, other_authority, member):
    ours = make_generation(authority, user=member(authority))
    theirs = make_generation(other_authority, user=member(other_authority))
    response = caller.call()
    if caller.allowed:
        assert response["Content-Type"].startswith("text/csv")
        lines = b"".join(response.streaming_content).decode().strip().splitlines()
        assert [line.split(";")[0] for line in lines[1:]] == [str((theirs if caller.stranger else ours).pk)]
