"""Embeddings through a text-embeddings-inference server (faked on loopback, real protocol)."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents import embeddings
from apps.documents.models import Chunk
from apps.documents.services import add_uploads
from apps.documents.tasks import schedule_reembedding
from apps.tenants.context import tenant_context

from ..fake_tei import FakeTEI


@pytest.fixture
def tei(settings, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_must_never_leave_this_machine")
    with FakeTEI() as server:
        settings.EMBEDDINGS_URL = settings.RERANK_URL = server.url
        settings.EMBEDDINGS_API_KEY = "registre-tei-key"
        embeddings.get_embedder.cache_clear()
        yield server
    embeddings.get_embedder.cache_clear()


def test_tei_embedder_sends_e5_prefixes_and_our_key_never_hf_token(tei):
    embedder = embeddings.get_embedder()
    assert isinstance(embedder, embeddings.TEIEmbedder)
    vectors = embedder.embed_passages([f"passage {i}" for i in range(40)])  # two batches of 32 and 8
    query = embedder.embed_query("cantine scolaire")
    assert vectors.shape == (40, 384) and query.shape == (384,)
    assert np.isclose(np.linalg.norm(query), 1, atol=1e-3)
    paths = [path for path, _ in tei.requests]
    assert paths == ["/embed", "/embed", "/embed"]
    assert tei.requests[0][1]["inputs"][0] == "passage: passage 0"
    assert tei.requests[2][1]["inputs"] == ["query: cantine scolaire"]
    assert {body["authorization"] for _, body in tei.requests} == {"Bearer registre-tei-key"}


def test_local_and_tei_embeddings_of_the_same_model_agree(tei):
    local = embeddings.LocalE5Embedder().embed_query("tarifs de la cantine")
    remote = embeddings.get_embedder().embed_query("tarifs de la cantine")
    assert float(local @ remote) > 0.99


def test_rerank_uses_tei_route_and_survives_its_failure(tei):
    scores = embeddings.rerank("tarif cantine", ["piscine", "tarif de la cantine", "cantine"])
    assert scores[1] > scores[2] > scores[0]
    tei.fail_with = 503
    assert embeddings.rerank("tarif cantine", ["x"]) is None


@pytest.mark.django_db
def test_changing_the_embedding_model_re_embeds_in_the_background(
    authority, tei, settings, django_capture_on_commit_callbacks
):
    settings.EMBEDDINGS_URL = ""
    embeddings.get_embedder.cache_clear()
    with django_capture_on_commit_callbacks(execute=True), tenant_context(authority.pk):
        add_uploads(authority=authority, files=[SimpleUploadedFile("n.txt", "Le marché a lieu le jeudi.".encode())])
    with tenant_context(authority.pk):
        assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {embeddings.LOCAL_MODEL_ID}

    settings.EMBEDDINGS_URL = tei.url  # the administrator switches to the TEI server
    embeddings.get_embedder.cache_clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_reembedding() == 1
    with tenant_context(authority.pk):
        assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {"intfloat/multilingual-e5-small"}
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_reembedding() == 0


def test_a_tei_server_that_fails_or_is_gone_raises_embedding_unavailable(tei):
    embedder = embeddings.get_embedder()
    tei.fail_with = 503
    with pytest.raises(embeddings.EmbeddingUnavailable) as down:
        embedder.embed_passages(["Le marché a lieu le jeudi."])
    assert down.value.retryable and "indisponible" in down.value.user_message
    with FakeTEI() as gone:
        url = gone.url
    with pytest.raises(embeddings.EmbeddingUnavailable):
        embeddings.TEIEmbedder(url, "intfloat/multilingual-e5-small", timeout=2).embed_query("marché")


@pytest.mark.django_db
def test_hybrid_search_falls_back_to_full_text_when_the_embedder_is_down(
    authority, tei, settings, django_capture_on_commit_callbacks
):
    from apps.documents.search import search

    with django_capture_on_commit_callbacks(execute=True), tenant_context(authority.pk):
        add_uploads(authority=authority, files=[SimpleUploadedFile("n.txt", "Le marché a lieu le jeudi.".encode())])
    tei.fail_with = 503
    with tenant_context(authority.pk):
        results = search(authority_id=authority.pk, query="marché du jeudi")
        assert results.mode == "fulltext" and [hit.document_title for hit in results.hits] == ["n"]
        with pytest.raises(embeddings.EmbeddingUnavailable):
            search(authority_id=authority.pk, query="marché du jeudi", mode="vector")
