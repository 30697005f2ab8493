"""Role matrix of `/api/v1/collections/`: every caller lists and reads its authority's collections; only
administrators create, change or delete them; another authority's collections are never reached."""

import pytest

from apps.documents.models import Collection

from . import matrix
from .objects import exists, make_collection, read

pytestmark = pytest.mark.django_db


@matrix.action(
    "api:collection-list",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_every_caller_lists_its_own_authority_collections(caller, authority, other_authority):
    ours, theirs = make_collection(authority, "Conseil municipal"), make_collection(other_authority, "Arrêtés")
    response = caller.call()
    if caller.allowed:
        assert [row["id"] for row in response.json()["results"]] == [(theirs if caller.stranger else ours).pk]


@matrix.action(
    "api:collection-list",
    "POST",
    reader=403,
    agent=403,
    administrator=201,
    read_key=403,
    write_key=403,
    other_authority=201,
)
def test_administrators_create_collections_in_their_own_authority(caller, authority):
    response = caller.call(data={"name": "Urbanisme", "visibility": "public"})
    assert exists(Collection, authority, name="Urbanisme") is (caller.allowed and not caller.stranger)
    if caller.allowed:
        assert response.json()["name"] == "Urbanisme"
        assert exists(Collection, caller.authority, pk=response.json()["id"], visibility="public")


@matrix.action(
    "api:collection-detail",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_every_member_reads_a_collection(caller, authority):
    collection = make_collection(authority, "Conseil municipal")
    response = caller.call(collection.pk)
    if caller.allowed:
        assert response.json()["id"] == collection.pk and response.json()["name"] == "Conseil municipal"


@matrix.action(
    "api:collection-detail",
    "PUT",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_replace_a_collection(caller, authority):
    collection = make_collection(authority, "Conseil municipal")
    response = caller.call(collection.pk, data={"name": "Conseil", "description": "Séances", "visibility": "public"})
    stored = read(Collection, authority, pk=collection.pk)[0]
    assert (stored.name, stored.visibility) == (
        ("Conseil", "public") if caller.allowed else ("Conseil municipal", "internal")
    )
    if caller.allowed:
        assert response.json()["description"] == "Séances"


@matrix.action(
    "api:collection-detail",
    "PATCH",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_make_a_collection_public(caller, authority):
    collection = make_collection(authority, "Conseil municipal")
    response = caller.call(collection.pk, data={"visibility": "public"})
    stored = read(Collection, authority, pk=collection.pk)[0]
    assert stored.visibility == ("public" if caller.allowed else "internal")
    if caller.allowed:
        assert response.json()["visibility"] == "public"


@matrix.action(
    "api:collection-detail",
    "DELETE",
    reader=403,
    agent=403,
    administrator=204,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_delete_an_empty_collection(caller, authority):
    collection = make_collection(authority, "Brouillons")
    caller.call(collection.pk)
    assert exists(Collection, authority, pk=collection.pk) is not caller.allowed
