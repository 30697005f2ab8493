"""Role matrix of `/api/v1/search/`: every caller searches its own authority's documents, and finds
none of another authority's."""

import pytest

from . import matrix
from .objects import make_document

pytestmark = pytest.mark.django_db


@matrix.action(
    "api:api-search", "GET", reader=200, agent=200, administrator=200, read_key=200, write_key=200, other_authority=200
)
def test_every_caller_searches_only_its_own_authority(caller, authority, other_authority):
    ours = make_document(authority, "Cantine : tarifs 2023")
    theirs = make_document(other_authority, "Cantine : tarifs 2024")
    # Full-text only: the roles are the point here, not the embedder (tests/documents covers hybrid search).
    response = caller.call(query={"q": "prix du repas à la cantine", "mode": "fulltext"})
    if caller.allowed:
        hits = response.json()["hits"]
        assert [hit["document_id"] for hit in hits] == [(theirs if caller.stranger else ours).pk]
