"""Role matrix of `/api/v1/deliberation-sessions/`: every caller reads its authority's council sessions;
agents (and write keys) create, change and delete them; another authority's sessions are never reached."""

import datetime

import pytest

from apps.deliberations.models import Deliberation, Session
from apps.deliberations.register import services
from apps.tenants.context import tenant_context
from tests.deliberations.register.support import add

from . import matrix
from .objects import exists, read

pytestmark = pytest.mark.django_db
MARCH = {"date": "2024-03-12", "title": "Conseil du 12 mars", "agenda": "1. Budget primitif\n2. Subventions"}


def make_session(authority, title="Conseil du 4 décembre", day=datetime.date(2023, 12, 4)) -> Session:
    with tenant_context(authority.pk):
        return services.create_session(authority=authority, date=day, title=title, agenda="1. Tarifs")


def stored(authority, session) -> Session:
    return read(Session, authority, pk=session.pk)[0]


@matrix.action(
    "api:deliberation-session-list",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_every_caller_lists_its_own_authority_sessions(caller, authority, other_authority):
    ours, theirs = make_session(authority), make_session(other_authority, "Conseil métropolitain")
    add(authority, delib_id="2023-001", session=ours)
    response = caller.call()
    if caller.allowed:
        rows = [(row["id"], row["deliberation_count"]) for row in response.json()["results"]]
        assert rows == ([(theirs.pk, 0)] if caller.stranger else [(ours.pk, 1)])


@matrix.action(
    "api:deliberation-session-list",
    "POST",
    reader=403,
    agent=201,
    administrator=201,
    read_key=403,
    write_key=201,
    other_authority=201,
)
def test_agents_create_sessions_in_their_own_authority(caller, authority):
    response = caller.call(data=MARCH)
    assert exists(Session, authority, title=MARCH["title"]) is (caller.allowed and not caller.stranger)
    if caller.allowed:
        body = response.json()
        assert (body["date"], body["title"], body["deliberation_count"]) == (MARCH["date"], MARCH["title"], 0)
        assert exists(Session, caller.authority, pk=body["id"], agenda=MARCH["agenda"])


@matrix.action(
    "api:deliberation-session-detail",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_every_member_reads_a_session(caller, authority):
    session = make_session(authority)
    response = caller.call(session.pk)
    if caller.allowed:
        body = response.json()
        assert (body["id"], body["date"], body["title"], body["agenda"]) == (
            session.pk,
            "2023-12-04",
            "Conseil du 4 décembre",
            "1. Tarifs",
        )


@matrix.action(
    "api:deliberation-session-detail",
    "PUT",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_replace_a_session(caller, authority):
    session = make_session(authority)
    response = caller.call(session.pk, data=MARCH)
    row = stored(authority, session)
    assert (str(row.date), row.title) == (
        (MARCH["date"], MARCH["title"]) if caller.allowed else ("2023-12-04", "Conseil du 4 décembre")
    )
    if caller.allowed:
        assert response.json()["agenda"] == MARCH["agenda"]


@matrix.action(
    "api:deliberation-session-detail",
    "PATCH",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_change_a_session_agenda(caller, authority):
    session = make_session(authority)
    response = caller.call(session.pk, data={"agenda": "1. Tarifs\n2. Cantine"})
    assert stored(authority, session).agenda == ("1. Tarifs\n2. Cantine" if caller.allowed else "1. Tarifs")
    if caller.allowed:
        assert response.json()["agenda"] == "1. Tarifs\n2. Cantine"


@matrix.action(
    "api:deliberation-session-detail",
    "DELETE",
    reader=403,
    agent=204,
    administrator=204,
    read_key=403,
    write_key=204,
    other_authority=404,
)
def test_agents_delete_a_session_and_its_deliberations_stay(caller, authority):
    session = make_session(authority)
    deliberation = add(authority, delib_id="2023-001", session=session)
    caller.call(session.pk)
    assert exists(Session, authority, pk=session.pk) is not caller.allowed
    assert read(Deliberation, authority, pk=deliberation.pk)[0].session_id == (None if caller.allowed else session.pk)
